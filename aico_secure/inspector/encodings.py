"""Every byte form a secret can take on disk, so one multi-pattern pass finds all of them.

A canary written by a build may have gone through an encoder before it hit the disk: UTF-16 (Windows APIs,
some databases), JSON string escaping, URL encoding, hex, base64. Base64 is position dependent: the same
bytes encode differently depending on their offset modulo 3 in the encoded stream, so each alignment yields
its own stable inner part (the characters that do not depend on neighbouring bytes).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Iterator

MIN_B64_CORE = 8
# Z85 and Python's base85 are the same arithmetic (big-endian 4-byte groups as five base-85 digits) over two
# alphabets, so Z85 is ``b85encode`` with its digits renamed: no ZeroMQ import at start-up for it.
_B85_TO_Z85 = bytes.maketrans(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~",
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")


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
    """The forms a text canary takes: UTF-8, UTF-16LE/BE, UTF-32LE/BE, JSON-escaped (as ``json.dumps`` writes
    it with and without ``ensure_ascii``, and with every character escaped), URL-encoded (upper- and lower-case
    hex, ``+`` for space), and the byte forms of its UTF-8 (hex in both cases, base64 at three alignments in both
    alphabets). Byte-order marks only precede a text, so they need no form of their own.

    A canary that is not valid Unicode text (bytes from a canary file or a command line that are not UTF-8,
    held as lone surrogates) is searched for as those bytes and their hex and base64 forms only."""
    raw = canary_bytes(text)
    if not is_unicode(text):
        yield "bytes", raw
        yield from byte_forms(raw, include_raw=False)
        return
    yield "utf-8", raw
    yield "utf-16le", text.encode("utf-16-le")
    yield "utf-16be", text.encode("utf-16-be")
    yield "utf-32le", text.encode("utf-32-le")
    yield "utf-32be", text.encode("utf-32-be")
    seen = {raw}
    ascii_escaped = json.dumps(text)[1:-1].encode("ascii")
    every_char = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1] for c in text)
    for form in (ascii_escaped, _upper_unicode_escapes(ascii_escaped),
                 json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8"),
                 every_char.encode("ascii"), _upper_unicode_escapes(every_char.encode("ascii"))):
        if form not in seen:
            seen.add(form)
            yield "json-escaped", form
    for quoted in (urllib.parse.quote(text, safe=""), urllib.parse.quote_plus(text, safe="")):
        for variant in (quoted.encode("ascii"), _lower_percent(quoted).encode("ascii")):
            if variant not in seen:
                seen.add(variant)
                yield "url-encoded", variant
    yield from byte_forms(raw, include_raw=False)


def canary_bytes(text: str) -> bytes:
    """The bytes of a canary: UTF-8, with lone surrogates from undecodable input turned back into its bytes."""
    return text.encode("utf-8", "surrogateescape")


def is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(text: str) -> str:
    """``text`` safe for any UTF-8 writer: bytes that were not UTF-8 (lone surrogates) shown as ``\\xNN``."""
    if is_unicode(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") if _escaped_only(text) \
        else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _escaped_only(text: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


def _lower_percent(quoted: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted)


def _upper_unicode_escapes(escaped: bytes) -> bytes:
    """``\\u00fc`` as some encoders write it: ``\\u00FC``."""
    parts = escaped.split(b"\\u")
    return parts[0] + b"".join(b"\\u" + p[:4].upper() + p[4:] for p in parts[1:])


def byte_forms(data: bytes, *, include_raw: bool = True, z85_forms: bool = False) -> Iterator[tuple[str, bytes]]:
    """The forms key material takes: raw, hex (both cases), base64 (three alignments, both alphabets) and, for
    keys, Z85. JWK writes keys as unpadded base64url from their first byte (alignment 0); DER embeds them raw."""
    if include_raw:
        yield "raw", data
    yield "hex", data.hex().encode()
    yield "HEX", data.hex().upper().encode()
    yield from _b64_forms(data)
    if z85_forms:
        yield from _z85_forms(data)


def _z85_forms(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Z85 (ZeroMQ's base85, how CurveZMQ keys are written): 4 bytes make 5 characters, so each of the four
    alignments of ``data`` in the encoded stream has its own stable part, the groups wholly inside ``data``."""
    for shift in range(4):
        skip = (4 - shift) % 4
        usable = (len(data) - skip) // 4 * 4
        if usable >= 8:
            yield f"z85/align{shift}", z85_encode(data[skip:skip + usable])


def z85_encode(data: bytes) -> bytes:
    """Z85 of ``data`` (a multiple of 4 bytes long, as Z85 requires)."""
    if len(data) % 4:
        raise ValueError("Z85 encodes whole 4-byte groups only")
    return base64.b85encode(data).translate(_B85_TO_Z85)
