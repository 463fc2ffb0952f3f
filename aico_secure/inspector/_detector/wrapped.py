"""Compressed streams and archives wrapped in base64, base64url or hex text, decoded and scanned.

Text formats cannot hold bytes, so a build that compresses a value and stores it in JSON, a log line or an
environment file encodes it first (``base64(zlib(...))`` is common). The canary forms of the literal pass cover
a canary that is only encoded, not one that was compressed first. Decoding every base64 run in a file would
double the work on ciphertext stored as base64, so a run is decoded only when it **starts** with the encoding
of a known magic number (``H4sI`` is gzip, ``eJ`` zlib, ``KLUv/`` zstd, ``UEsDB`` a ZIP, ...): the decoded
bytes are then scanned like any decoded stream, where the compressed-stream and ZIP detectors take over.

A run is read with bounded reads up to the first character outside its alphabet (line breaks are allowed in
base64, as MIME and PEM wrap it) and at most ``Limits.decode_cap`` decoded bytes; a longer run is reported as
not fully inspected.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator

from aico_secure.inspector._detector.archive import LOCAL_HEADER
from aico_secure.inspector._detector.compressed import MAGICS
from aico_secure.inspector.interface import Detector, Scope, Stream, Window
from aico_secure.inspector.needles import Needles, Pattern

READ = 64 << 10
MIN_RUN = 16  # characters of the alphabet a run must start with to be decoded
B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_")
HEX = frozenset(b"0123456789abcdefABCDEF")
_NOT_B64 = re.compile(rb"[^A-Za-z0-9+/=\-_\r\n]")
_NOT_HEX = re.compile(rb"[^0-9a-fA-F]")


def _literals() -> list[tuple[str, str, bytes]]:
    """(encoding, wrapped format, literal): the stable prefix of each magic's base64, base64url and hex."""
    out: set[tuple[str, str, bytes]] = set()
    for fmt, magic in (*MAGICS, ("zip", LOCAL_HEADER)):
        stable = len(magic) * 8 // 6  # characters fully determined by the magic's bytes
        # Two-character literals (zlib's two-byte header) would slow the shared pass's prefilter down several
        # times: such a magic gets its third character in each of its four possible values instead.
        prefixes = [base64.b64encode(magic + bytes([top << 6]))[:stable + 1] for top in range(4)] \
            if stable < 3 else [base64.b64encode(magic)[:stable]]
        for encoded in prefixes:
            out.add(("base64", fmt, encoded))
            out.add(("base64url", fmt, encoded.replace(b"+", b"-").replace(b"/", b"_")))
        out.add(("hex", fmt, magic.hex().encode()))
        out.add(("hex", fmt, magic.hex().upper().encode()))
    return sorted(out)


def _run(read: Callable[[int, int], bytes], start: int, stop: re.Pattern[bytes], limit: int) -> Iterator[bytes]:
    """The run of text from ``start`` up to the first character matched by ``stop`` (or ``limit`` characters)."""
    position, left = start, limit
    while left > 0:
        piece = read(position, min(READ, left))
        if not piece:
            return
        end = stop.search(piece)
        if end is not None:
            yield piece[:end.start()]
            return
        yield piece
        position += len(piece)
        left -= len(piece)


def _decode_base64(text: Iterator[bytes]) -> Iterator[bytes]:
    carry = b""
    for piece in text:
        data = carry + piece.replace(b"\r", b"").replace(b"\n", b"").replace(b"-", b"+").replace(b"_", b"/")
        whole = len(data) // 4 * 4
        carry = data[whole:]
        try:
            yield base64.b64decode(data[:whole])
        except (binascii.Error, ValueError):
            return  # padding inside: the encoded value ended there
    if carry.rstrip(b"="):
        try:
            yield base64.b64decode(carry + b"=" * (-len(carry) % 4))
        except (binascii.Error, ValueError):
            return  # one character left over (or "x="): it encodes no whole byte


def _decode_hex(text: Iterator[bytes]) -> Iterator[bytes]:
    carry = b""
    for piece in text:
        data = carry + piece
        whole = len(data) // 2 * 2
        carry = data[whole:]
        yield binascii.unhexlify(data[:whole])


class WrappedDetector(Detector):
    name = "wrapped"

    def prepare(self, needles: Needles) -> list[Pattern]:
        return [Pattern(f"magic:{encoding}:{fmt}", encoding, literal, self.name)
                for encoding, fmt, literal in _literals()]

    def matched(self, scope: Scope, stream: Stream, window: Window, pattern: Pattern, start: int, end: int) -> None:
        encoding = pattern.encoding
        alphabet = HEX if encoding == "hex" else B64
        offset = window.start + start
        if start > 0:
            before = bytes(window.data[start - 1:start])
        else:
            before = stream.reader(offset - 1, 1) if stream.reader is not None and offset > 0 else b""
        if before and before[0] in alphabet:
            return  # not the start of a run: the value encoded here does not begin with the magic
        head = bytes(window.data[start:start + MIN_RUN])
        if len(head) == MIN_RUN and not all(c in alphabet for c in head):
            return  # too short to hold a stream: a chance match (two-character zlib prefixes are common)
        where = f"{encoding}@{offset}" if stream.raw else f"{stream.container}>{encoding}@{offset}"
        if stream.depth >= scope.limits.max_depth:
            scope.unreadable(where, f"{encoding} text nested more than {scope.limits.max_depth} levels deep: "
                             "not decoded")
            return
        if stream.reader is not None:
            read = stream.reader
        else:
            data = bytes(window.data)
            base = window.start

            def read(at: int, size: int) -> bytes:
                return data[at - base:at - base + size]

        limit = scope.limits.decode_cap * 2 if encoding == "hex" else scope.limits.decode_cap * 3 // 2
        text = _run(read, offset, _NOT_HEX if encoding == "hex" else _NOT_B64, limit + 1)
        state: dict[str, object] = {}
        decoded = _decode_hex(text) if encoding == "hex" else _decode_base64(text)
        scanned = scope.scan_decoded(_capped(decoded, scope.limits.decode_cap, state), container=where,
                                     origin=offset if stream.raw else stream.origin or 0, parent=stream)
        if state.get("capped"):
            scope.unreadable(where, f"{encoding} text decodes to more than {scope.limits.decode_cap} bytes; the "
                             "rest was not inspected")
        scope.observe(self.name, f"{where}: {encoding} text holding {pattern.label.rsplit(':', 1)[-1]} data, "
                      f"{scanned} bytes decoded and scanned", decoded=scanned)


def _capped(chunks: Iterator[bytes], cap: int, state: dict[str, object]) -> Iterator[bytes]:
    produced = 0
    for chunk in chunks:
        if produced + len(chunk) > cap:
            state["capped"] = True
            yield chunk[:cap - produced]
            return
        produced += len(chunk)
        yield chunk
