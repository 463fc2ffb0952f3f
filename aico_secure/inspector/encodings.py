"""Every byte form a secret can take on disk, so one multi-pattern pass finds all of them.

A canary written by a build may have gone through an encoder before it hit the disk: UTF-16 (Windows APIs,
some databases), JSON string escaping, URL encoding, hex, base64. Base64 is position dependent: the same
bytes encode differently depending on their offset modulo 3 in the encoded stream, so each alignment yields
its own stable inner part (the characters that do not depend on neighbouring bytes).
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Iterator

MIN_B64_CORE = 8


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
            if len(core) >= MIN_B64_CORE:
                yield f"{name}/align{shift}", core


def text_forms(text: str) -> Iterator[tuple[str, bytes]]:
    """The forms a text canary takes: UTF-8, UTF-16LE/BE, JSON-escaped, URL-encoded, and the byte forms of its
    UTF-8 (hex in both cases, base64 at three alignments in both alphabets)."""
    raw = text.encode("utf-8")
    yield "utf-8", raw
    yield "utf-16le", text.encode("utf-16-le")
    yield "utf-16be", text.encode("utf-16-be")
    json_escaped = json.dumps(text)[1:-1].encode("ascii")
    if json_escaped != raw:
        yield "json-escaped", json_escaped
        upper = _upper_unicode_escapes(json_escaped)
        if upper != json_escaped:
            yield "json-escaped", upper
    url = urllib.parse.quote(text, safe="").encode("ascii")
    if url != raw:
        yield "url-encoded", url
    form = urllib.parse.quote_plus(text, safe="").encode("ascii")
    if form not in (raw, url):
        yield "url-encoded", form
    yield from byte_forms(raw, include_raw=False)


def _upper_unicode_escapes(escaped: bytes) -> bytes:
    """``\\u00fc`` as some encoders write it: ``\\u00FC``."""
    parts = escaped.split(b"\\u")
    return parts[0] + b"".join(b"\\u" + p[:4].upper() + p[4:] for p in parts[1:])


def byte_forms(data: bytes, *, include_raw: bool = True) -> Iterator[tuple[str, bytes]]:
    """The forms key material takes: raw, hex (both cases), base64 (three alignments, both alphabets)."""
    if include_raw:
        yield "raw", data
    yield "hex", data.hex().encode()
    yield "HEX", data.hex().upper().encode()
    yield from _b64_forms(data)
