"""ZIP members, found by their local file headers anywhere in a stream, decoded (bounded) and scanned.

ZIP compresses each member on its own, usually with raw deflate, which has no magic of its own: without this
detector a canary in a deflated member is invisible. Members are found by the local header signature
(``PK\\x03\\x04``) at any offset and any nesting depth (a ZIP inside a gzip, a ZIP inside a ZIP member), and
decoded from there with bounded streaming reads; the central directory is not needed, so a ZIP embedded in
another file, truncated, or still being written is read as far as it goes. The header layout is the one of
Python's ``zipfile`` (its ``structFileHeader``).

* stored (0): the bytes are the member itself, already covered by the scan of the enclosing stream;
* deflate (8) and LZMA (14): decoded here;
* bzip2 (12), zstd (93), xz (95): each member starts with its codec's own magic, so the compressed-stream
  detector decodes it (at the same depth);
* encrypted members (flag bit 0, or method 99 = WinZip AES) and any other method (deflate64, PPMd, ...) are
  reported as not inspected: their content cannot be read here.

tar needs no detector: a tar archive stores every member's bytes contiguously and unencoded, so the scan of
the archive (or of its decompressed ``.tar.gz`` / ``.tar.bz2`` / ``.tar.xz`` stream) already reads them.
"""

from __future__ import annotations

import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator

from aico_secure.inspector._detector.compressed import (
    DecodeFailed,
    _buffered,
    _read_upto,
    _Source,
    _zlib,
    bounded,
    incomplete_reason,
)
from aico_secure.inspector.interface import Detector, Limits, Scope, Stream, Window
from aico_secure.inspector.needles import Needles, Pattern

LOCAL_HEADER: bytes = zipfile.stringFileHeader  # type: ignore[attr-defined]  # b"PK\x03\x04"
HEADER_STRUCT = struct.Struct(zipfile.structFileHeader)  # type: ignore[attr-defined]
STORED, DEFLATED, BZIP2, LZMA, ZSTD, XZ, AES = 0, 8, 12, 14, 93, 95, 99
SELF_MAGIC = {BZIP2: "bzip2", ZSTD: "zstd", XZ: "xz"}
METHOD_NAMES = {9: "deflate64", 10: "PKWARE DCL implode", 6: "implode", 97: "WavPack", 98: "PPMd", 96: "JPEG"}
MAX_VERSION_NEEDED = 63  # APPNOTE 6.3; anything above is not a local header but a chance match


def _lzma_member(source: _Source, limits: Limits) -> Iterator[bytes]:
    """ZIP's LZMA: a 4-byte header (version, properties size), the properties, then a raw LZMA1 stream."""
    head = _read_upto(source, 4)
    if len(head) < 4:
        raise DecodeFailed("truncated LZMA header")
    size = int.from_bytes(head[2:4], "little")
    props = _read_upto(source, size)
    if len(props) != size:
        raise DecodeFailed("truncated LZMA properties")
    try:
        filters = [lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)]  # type: ignore[attr-defined]
    except (lzma.LZMAError, ValueError) as exc:
        raise DecodeFailed(type(exc).__name__) from None
    yield from _buffered(lambda: lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=filters))(source, limits)


class _Limited(_Source):
    """A member's compressed bytes only, when the header says how many there are."""

    def __init__(self, inner: _Source, size: int) -> None:
        self._inner = inner
        self._left = size
        self.consumed = 0

    def read(self, size: int = 1 << 16) -> bytes:
        piece = self._inner.read(min(size, self._left)) if self._left > 0 else b""
        self._left -= len(piece)
        self.consumed += len(piece)
        return piece


class ZipDetector(Detector):
    name = "zip"

    def prepare(self, needles: Needles) -> list[Pattern]:
        return [Pattern("magic:zip", "zip-local-header", LOCAL_HEADER, self.name)]

    def matched(self, scope: Scope, stream: Stream, window: Window, pattern: Pattern, start: int, end: int) -> None:
        offset = window.start + start
        source = _Source(window.data, start, stream.reader, window.start + len(window.data))
        header = _read_upto(source, HEADER_STRUCT.size)
        if len(header) < HEADER_STRUCT.size:
            return
        (_sig, version, _system, flags, method, _time, _date, _crc, csize, _usize, name_len,
         extra_len) = HEADER_STRUCT.unpack(header)
        if version > MAX_VERSION_NEEDED:
            return  # not a local header
        name_bytes = _read_upto(source, name_len)
        _read_upto(source, extra_len)
        name = name_bytes.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        prefix = "" if stream.raw else f"{stream.container}>"
        where = f"{prefix}zip@{offset}:{name}"
        if flags & 0x1 or method == AES:
            scope.unreadable(where, f"encrypted ZIP member {name!r}: its content cannot be inspected")
            return
        if method in (STORED, *SELF_MAGIC):
            return  # covered by the enclosing scan (stored) or by the compressed-stream detector
        if method not in (DEFLATED, LZMA):
            scope.unreadable(where, f"ZIP member {name!r} uses compression method {method} "
                             f"({METHOD_NAMES.get(method, 'unknown')}), which is not decoded")
            return
        if stream.depth >= scope.limits.max_depth:
            scope.unreadable(where, f"ZIP member nested more than {scope.limits.max_depth} levels deep: not decoded")
            return
        known_size = not flags & 0x8 and csize not in (0, 0xFFFFFFFF)
        body: _Source = _Limited(source, csize) if known_size else source
        decoder = _zlib(-zlib.MAX_WBITS) if method == DEFLATED else _lzma_member
        state: dict[str, object] = {}
        fmt = "deflate" if method == DEFLATED else "lzma"
        scanned = scope.scan_decoded(bounded(decoder(body, scope.limits), scope.limits, state),
                                     container=f"{where}/{fmt}",
                                     origin=offset if stream.raw else stream.origin or 0, parent=stream)
        # A local header that passed the checks above is a real member: any failure to decode it to its end
        # (even before the first byte) means its content was not inspected.
        reason = incomplete_reason(fmt, state, scope.limits)
        if reason is None and not state.get("complete"):
            failure = state.get("truncated") or state.get("error") or "no output"
            reason = f"{fmt} member does not decode ({failure}); its content was not inspected"
        if reason is not None:
            scope.unreadable(where, reason)
        scope.observe(self.name, f"{where}: {fmt} member, {scanned} bytes decompressed and scanned", decoded=scanned)
