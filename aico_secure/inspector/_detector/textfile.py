"""JSON and text files: recognised so that a canary found in them is reported as "in a JSON file" or "in a
text file" (logs, exports, crash reports), which tells an auditor what kind of leak it is.

The canary itself is found by the literal detectors (including its JSON-escaped form); this detector does not
judge text on its own, because logs and configs are readable by design and hold no user data unless a
canary says so.
"""

from __future__ import annotations

from aico_secure.inspector.interface import Detector, Scope

_SAMPLE = 4096


def _text_ratio(sample: bytes) -> float:
    """Share of printable characters, counting bytes that are not UTF-8 (a cut character at the end aside)
    as unprintable."""
    text = sample.decode("utf-8", "ignore")
    if not text:
        return 0.0
    invalid = max(0, len(sample) - len(text.encode("utf-8")) - 3)
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
    return printable / (len(text) + invalid)


class TextFileDetector(Detector):
    name = "textfile"
    raw_only = True

    def begin_file(self, scope: Scope) -> None:
        if scope.kind != "file" or not scope.head:
            return
        sample = scope.head[:_SAMPLE]
        if b"\x00" in sample or _text_ratio(sample) < 0.95:
            return
        stripped = sample.lstrip()
        scope.kind = "json" if stripped[:1] in (b"{", b"[") else "text"
