"""Every byte form a secret can take on disk, so one multi-pattern pass finds all of them."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Iterator


def _b64_forms(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Base64 of ``data`` at all three alignments, standard and URL-safe, trimmed to the stable inner part."""
    for shift in range(3):
        padded = b"\0" * shift + data
        for name, enc in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            encoded = enc(padded)
            # Characters touched by the pad prefix or by the tail's padding depend on neighbours: drop them.
            start = (shift * 8 + 5) // 6 if shift else 0
            usable_bits = len(padded) * 8
            end = usable_bits // 6 if len(padded) % 3 else len(encoded)
            core = encoded[start:end].rstrip(b"=")
            if len(core) >= 8:
                yield f"{name}/align{shift}", core


def text_forms(text: str) -> Iterator[tuple[str, bytes]]:
    raw = text.encode("utf-8")
    yield "utf-8", raw
    yield "utf-16le", text.encode("utf-16-le")
    yield "utf-16be", text.encode("utf-16-be")
    json_escaped = json.dumps(text)[1:-1].encode("ascii")
    if json_escaped != raw:
        yield "json-escaped", json_escaped
    url = urllib.parse.quote(text, safe="").encode("ascii")
    if url != raw:
        yield "url-encoded", url
    yield from byte_forms(raw, include_raw=False)


def byte_forms(data: bytes, *, include_raw: bool = True) -> Iterator[tuple[str, bytes]]:
    if include_raw:
        yield "raw", data
    yield "hex", data.hex().encode()
    yield "HEX", data.hex().upper().encode()
    yield from _b64_forms(data)
