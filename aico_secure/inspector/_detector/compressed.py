"""Compressed streams found anywhere inside a file, decompressed (bounded) and scanned with the same patterns.

A plaintext value in a compressed block is invisible to grep. Streams are found by their magic bytes, which
are literals in the shared pass: zlib (``78 01/5e/9c/da``), gzip, zstd frames, LZ4 frames, snappy framing
(``sNaPpY``), bzip2 and xz. A candidate is decoded from the window and, for a file's own bytes, on from the
file with bounded reads, so a stream is never read whole into memory.

Raw snappy and raw LZ4 blocks carry no magic; they are found where a container says where they are (RocksDB
SST blocks, see ``rocksdb_sst``) and as whole files: a file that decodes entirely as a raw snappy block or a
size-prefixed LZ4 block is scanned decoded.

Decompression bombs: every stream yields at most ``Limits.decode_cap`` bytes, produced ``decode_chunk`` at a
time (each decoder is asked for bounded output, never "everything"). A stream cut at the cap is reported as
not fully inspected, which makes the scan unclean: a bomb cannot hide data behind the cap unnoticed.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable, Iterator
from typing import Protocol

import cramjam
import lz4.block
import lz4.frame

from aico_secure.inspector.interface import Detector, Limits, Scope, Stream, Window
from aico_secure.inspector.needles import Needles, Pattern

FEED = 64 << 10
PROBE_IN, PROBE_OUT = 1024, 512
ZSTD_FEED = 128
SNAPPY_FRAME_MAX = 1 << 16
SNAPPY_CHUNK_MAX = (1 << 16) + 4 + (1 << 15)  # bound of one chunk's body (compressed data and its CRC)

MAGICS: tuple[tuple[str, bytes], ...] = (
    ("zlib", b"\x78\x01"), ("zlib", b"\x78\x5e"), ("zlib", b"\x78\x9c"), ("zlib", b"\x78\xda"),
    ("gzip", b"\x1f\x8b\x08"), ("zstd", b"\x28\xb5\x2f\xfd"), ("lz4-frame", b"\x04\x22\x4d\x18"),
    ("snappy-framed", b"\xff\x06\x00\x00sNaPpY"), ("bzip2", b"BZh"), ("xz", b"\xfd7zXZ\x00"),
    *(("lzma-alone", b"\x5d" + (1 << bits).to_bytes(4, "little")) for bits in (18, 20, 21, 22, 23, 24, 25, 26)),
)
# Containers and compressors the inspector recognises but does not decode: meeting one means something was not
# inspected. Magic numbers of six bytes or more only, so random bytes do not raise them by chance.
UNDECODED: tuple[tuple[str, bytes], ...] = (
    ("7z", b"7z\xbc\xaf\x27\x1c"), ("rar", b"Rar!\x1a\x07"), ("lzop", b"\x89LZO\x00\r\n\x1a\n"),
    ("lzip", b"LZIP\x01"),
)

ZLIB_CONFIDENT = 128 << 10


class DecodeFailed(Exception):
    """The bytes are not (or stop being) a valid stream of the expected format."""


class Truncated(DecodeFailed):
    """The input ended before the stream did."""


class _Source:
    """Input bytes of one candidate stream: the rest of the window, then (for a file's own bytes) the file."""

    def __init__(self, window: memoryview, start: int, more: Callable[[int, int], bytes] | None, file_pos: int):
        self._window = window
        self._pos = start
        self._more = more
        self._file_pos = file_pos  # file offset right after the window
        self.consumed = 0

    def read(self, size: int = FEED) -> bytes:
        size = FEED if size is None or size < 0 else min(size, FEED)
        if self._pos < len(self._window):
            piece = bytes(self._window[self._pos:self._pos + size])
            self._pos += len(piece)
        elif self._more is not None:
            piece = self._more(self._file_pos, size)
            self._file_pos += len(piece)
        else:
            piece = b""
        self.consumed += len(piece)
        return piece

    def give_back(self, unused: int) -> None:
        """The decoder read ``unused`` bytes past the end of its stream: they belong to what follows."""
        self.consumed -= max(0, min(unused, self.consumed))


class _Decoder(Protocol):
    def __call__(self, source: _Source, limits: Limits) -> Iterator[bytes]: ...


def _zlib(wbits: int) -> _Decoder:
    """zlib and gzip: ``decompress(data, max_length)`` keeps what it did not use in ``unconsumed_tail``."""

    def decode(source: _Source, limits: Limits) -> Iterator[bytes]:
        dec = zlib.decompressobj(wbits)
        while not dec.eof:
            data = dec.unconsumed_tail or source.read()
            if not data:
                raise Truncated("the input ends before the end of the stream")
            try:
                out = dec.decompress(data, limits.decode_chunk)
            except zlib.error as exc:
                raise DecodeFailed(str(exc)[:80]) from None
            if out:
                yield out
        source.give_back(len(dec.unused_data) + len(dec.unconsumed_tail))

    return decode


class _Buffered(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    @property
    def unused_data(self) -> bytes | None: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


def _buffered(make: Callable[[], _Buffered]) -> _Decoder:
    """bz2, xz and LZ4 frames: bounded ``decompress(data, max_length)``; ``needs_input`` False means more output
    is waiting and is drained with an empty call."""

    def decode(source: _Source, limits: Limits) -> Iterator[bytes]:
        dec = make()
        while not dec.eof:
            data = b""
            if dec.needs_input:
                data = source.read()
                if not data:
                    raise Truncated("the input ends before the end of the stream")
            try:
                out = dec.decompress(data, limits.decode_chunk)
            except (OSError, EOFError, lzma.LZMAError, ValueError, RuntimeError) as exc:
                raise DecodeFailed(type(exc).__name__) from None
            if out:
                yield out
        source.give_back(len(dec.unused_data or b""))

    return decode


def _zstd(source: _Source, limits: Limits) -> Iterator[bytes]:
    """zstd frames: ``decompressobj`` knows exactly where a frame ends (``eof``) and whether input ran out, but
    has no output bound, so it is fed ``ZSTD_FEED`` bytes at a time: a block decodes to at most 128 KiB and a
    few bytes of input hold at most a few blocks, so each step stays within a few MiB.

    ``zstandard`` is imported here, on the first zstd frame: its import (about 10 ms) would otherwise be paid at
    start-up by every run, most of which meet no zstd frame."""
    import zstandard

    dec = zstandard.ZstdDecompressor().decompressobj(read_across_frames=False)
    while not dec.eof:
        data = source.read()
        if not data:
            raise Truncated("the input ends before the end of the frame")
        try:
            for start in range(0, len(data), ZSTD_FEED):
                out = dec.decompress(data[start:start + ZSTD_FEED])
                if out:
                    yield out
                if dec.eof:
                    unfed = len(data) - min(len(data), start + ZSTD_FEED)
                    source.give_back(unfed + len(dec.unused_data))
                    break
        except zstandard.ZstdError as exc:
            raise DecodeFailed(str(exc)[:80]) from None


def _read_exact(source: _Source, size: int) -> bytes:
    data = b""
    while len(data) < size:
        piece = source.read(size - len(data))
        if not piece:
            raise Truncated("the input ends inside a chunk")
        data += piece
    return data


def _read_upto(source: _Source, size: int) -> bytes:
    data = b""
    while len(data) < size:
        piece = source.read(size - len(data))
        if not piece:
            break
        data += piece
    return data


def _snappy_framed(source: _Source, limits: Limits) -> Iterator[bytes]:
    """The snappy framing format: chunks of at most 64 KiB uncompressed, each checked before decoding. The
    format has no end marker: the stream ends where the next four bytes are not a chunk header."""
    _read_exact(source, 10)  # the stream identifier, already matched
    while True:
        header = _read_upto(source, 4)
        kind, length = (header[0], int.from_bytes(header[1:4], "little")) if len(header) == 4 else (-1, 0)
        if (kind not in (0x00, 0x01) and not 0x80 <= kind <= 0xFF) or length > SNAPPY_CHUNK_MAX:
            source.give_back(len(header))
            return
        body = _read_exact(source, length)
        if kind == 0x00:
            payload = body[4:]
            try:
                if cramjam.snappy.decompress_raw_len(payload) > SNAPPY_FRAME_MAX:
                    raise DecodeFailed("chunk larger than the framing format allows")
                yield bytes(cramjam.snappy.decompress_raw(payload))
            except cramjam.DecompressionError as exc:
                raise DecodeFailed(str(exc)[:80]) from None
        elif kind == 0x01:
            yield body[4:]
        # 0x80-0xfe: skippable chunks (padding, ...); 0xff: a repeated stream identifier


DECODERS: dict[str, _Decoder] = {
    "zlib": _zlib(zlib.MAX_WBITS),
    "gzip": _zlib(16 + zlib.MAX_WBITS),
    "bzip2": _buffered(bz2.BZ2Decompressor),
    "xz": _buffered(lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ)),
    # legacy .lzma: no magic of its own, found by properties byte + a preset's dictionary size
    "lzma-alone": _buffered(lambda: lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)),
    "zstd": _zstd,
    "lz4-frame": _buffered(lz4.frame.LZ4FrameDecompressor),
    "snappy-framed": _snappy_framed,
}


def bounded(chunks: Iterator[bytes], limits: Limits, state: dict[str, object]) -> Iterator[bytes]:
    """Stop at the decode cap, remember why a stream ended, and turn decode errors into a clean stop."""
    produced = 0
    try:
        for chunk in chunks:
            room = limits.decode_cap - produced
            if room <= 0:
                state["capped"] = True
                return
            chunk = chunk[:room]
            produced += len(chunk)
            yield chunk
        state["complete"] = True
    except Truncated as exc:
        state["truncated"] = str(exc)
    except DecodeFailed as exc:
        state["error"] = str(exc)
    finally:
        state["produced"] = produced


def incomplete_reason(fmt: str, state: dict[str, object], limits: Limits) -> str | None:
    """Why a decoded stream was not inspected to its end, or None when it was (or was never a stream).

    A magic number turns up by chance in random bytes (ciphertext), and decoding such a chance match fails: if
    nothing was produced it was not a stream. A stream that produced data and then broke off, or whose input
    ended first, was cut short: the rest was not inspected. zlib's two-byte header is the weakest signal: a
    chance header in ciphertext decodes garbage for a while (a stored block of up to 64 KiB, or Huffman codes
    until the end of a file a few hundred bytes on), so a zlib stream counts as broken only past
    ``ZLIB_CONFIDENT`` bytes of output. Shorter broken zlib streams are scanned as far as they decode.
    """
    produced = state.get("produced", 0)
    produced = produced if isinstance(produced, int) else 0
    if state.get("capped"):
        return (f"decompressed output exceeds the per-stream cap of {limits.decode_cap} bytes; the rest was not "
                "inspected")
    confident = produced > 0 and (fmt != "zlib" or produced > ZLIB_CONFIDENT)
    if state.get("truncated") and confident:
        return f"truncated {fmt} stream after {produced} decoded bytes ({state['truncated']})"
    error = state.get("error")
    if error is not None and confident:
        return f"corrupt {fmt} stream after {produced} decoded bytes ({error}); the rest was not inspected"
    return None


class CompressedDetector(Detector):
    name = "compressed"

    def prepare(self, needles: Needles) -> list[Pattern]:
        return ([Pattern(f"magic:{fmt}", fmt, magic, self.name) for fmt, magic in MAGICS]
                + [Pattern(f"magic:{fmt}", f"undecoded:{fmt}", magic, self.name) for fmt, magic in UNDECODED])

    def matched(self, scope: Scope, stream: Stream, window: Window, pattern: Pattern, start: int, end: int) -> None:
        fmt = pattern.encoding
        offset = window.start + start
        where = f"{fmt}@{offset}" if stream.raw else f"{stream.container}>{fmt}@{offset}"
        if fmt.startswith("undecoded:"):
            scope.unreadable(where.replace("undecoded:", ""), f"{fmt[10:]} data: a format the inspector does not "
                             "decode (not inspected)")
            return
        skip = stream.state.setdefault(self.name, {"skip_until": 0})
        if offset < skip["skip_until"]:
            return
        if fmt == "bzip2" and not _bzip2_header(peek(stream, window, start, 10)):
            return
        if fmt == "lzma-alone" and not _lzma_alone_header(peek(stream, window, start, 14)):
            return
        if fmt in ("zlib", "gzip") and not _inflates(peek(stream, window, start, PROBE_IN), fmt):
            return  # a two-byte zlib header turns up by chance every 16 KiB of random data: reject cheaply
        if stream.depth >= scope.limits.max_depth:
            scope.unreadable(where, f"{fmt} stream nested more than {scope.limits.max_depth} levels deep: not decoded")
            return
        source = _Source(window.data, start, stream.reader, window.start + len(window.data))
        state: dict[str, object] = {}
        scanned = scope.scan_decoded(bounded(DECODERS[fmt](source, scope.limits), scope.limits, state),
                                     container=where, origin=offset if stream.raw else stream.origin or 0,
                                     parent=stream)
        reason = incomplete_reason(fmt, state, scope.limits)
        if reason is not None:
            scope.unreadable(where, reason)
        if state.get("complete") and scanned:
            skip["skip_until"] = offset + source.consumed
            scope.observe(self.name, f"{where}: {scanned} bytes decompressed and scanned", decoded=scanned)

    def end_file(self, scope: Scope) -> None:
        """Whole-file raw blocks: snappy (length varint first), LZ4 with its 4-byte size prefix, raw deflate."""
        if scope.kind != "file" or not 8 <= scope.size <= scope.limits.probe_bytes:
            return
        cap = scope.limits.decode_cap
        try:
            snappy_len = cramjam.snappy.decompress_raw_len(scope.head[:10])
        except cramjam.DecompressionError:
            snappy_len = -1
        lz4_len = int.from_bytes(scope.head[:4], "little")
        plausible_snappy = scope.size // 2 <= snappy_len <= min(cap, 32 * scope.size)
        plausible_lz4 = scope.size // 2 <= lz4_len <= min(cap, 255 * scope.size)
        if not (plausible_snappy or plausible_lz4):
            self._raw_deflate(scope)
            return
        data = scope.read_at(0, scope.size)
        decoded: bytes | None = None
        fmt = ""
        if plausible_snappy:
            try:
                decoded, fmt = bytes(cramjam.snappy.decompress_raw(data)), "snappy-raw"
            except cramjam.DecompressionError:
                decoded = None
        if decoded is None and plausible_lz4:
            try:
                decoded, fmt = lz4.block.decompress(data), "lz4-block"
            except lz4.block.LZ4BlockError:
                decoded = None
        if decoded:
            scanned = scope.scan_decoded([decoded], container=f"{fmt}@0", origin=0)
            scope.observe(self.name, f"whole file is a raw {fmt}: {scanned} bytes decompressed and scanned",
                          decoded=scanned)
        else:
            self._raw_deflate(scope)

    def _raw_deflate(self, scope: Scope) -> None:
        """A file that is one raw deflate stream (``zlib.compress`` with ``wbits=-15``, a ZIP member cut out):
        decoded when its start inflates and the stream ends exactly at the end of the file. Random bytes fail
        within a few bytes, so the probe is cheap."""
        if not _inflates(memoryview(scope.head)[:PROBE_IN], "deflate-raw"):
            return
        dec = zlib.decompressobj(-zlib.MAX_WBITS)
        produced = 0
        try:
            pos = 0
            while not dec.eof and pos < scope.size and produced <= scope.limits.decode_cap:
                piece = scope.read_at(pos, FEED)
                pos += len(piece)
                while piece and produced <= scope.limits.decode_cap:
                    produced += len(dec.decompress(piece, 1 << 16))
                    piece = dec.unconsumed_tail
                    if dec.eof:
                        break
        except zlib.error:
            return
        whole = dec.eof and pos - len(dec.unused_data) == scope.size
        if not (whole or produced > scope.limits.decode_cap):
            return
        source = _Source(memoryview(b""), 0, scope.read_at, 0)
        state: dict[str, object] = {}
        scanned = scope.scan_decoded(bounded(_zlib(-zlib.MAX_WBITS)(source, scope.limits), scope.limits, state),
                                     container="deflate-raw@0", origin=0)
        reason = incomplete_reason("deflate-raw", state, scope.limits)
        if reason is not None:
            scope.unreadable("deflate-raw@0", reason)
        scope.observe(self.name, f"whole file is a raw deflate stream: {scanned} bytes decompressed and scanned",
                      decoded=scanned)


def _inflates(head: memoryview, fmt: str) -> bool:
    """Does the start of a zlib/gzip candidate decode for a while? Chance headers fail within a few bytes."""
    if fmt == "zlib" and _first_block_refused(head[2:]):
        return False
    try:
        wbits = {"zlib": zlib.MAX_WBITS, "gzip": 16 + zlib.MAX_WBITS}.get(fmt, -zlib.MAX_WBITS)
        dec = zlib.decompressobj(wbits)
        dec.decompress(head, PROBE_OUT)
    except zlib.error:
        return False
    return True


def _first_block_refused(deflate: memoryview) -> bool:
    """Would zlib refuse this first deflate block at once? Block type 3 is reserved, and a stored block's length
    must be followed by its complement. Random bytes (ciphertext) hold a chance two-byte zlib header every
    16 KiB and about half of them fail one of these two checks, which cost a fraction of starting a
    decompressor; the rest go to zlib itself. (None of the zlib magics sets FDICT, so the block starts right
    after the two header bytes.)"""
    if not deflate:
        return False
    block_type = (deflate[0] >> 1) & 3
    if block_type == 3:
        return True
    return block_type == 0 and len(deflate) >= 5 and \
        (deflate[1] | deflate[2] << 8) != (deflate[3] | deflate[4] << 8) ^ 0xFFFF


def peek(stream: Stream, window: Window, start: int, size: int) -> memoryview:
    """``size`` bytes of the stream from ``window.data[start]``, read on past the window's end when needed: a
    header check must not fail because the magic happened to sit at the end of a window."""
    if start + size <= len(window.data) or stream.reader is None:
        return window.data[start:start + size]
    return memoryview(stream.reader(window.start + start, size))


def _lzma_alone_header(head: memoryview) -> bool:
    """Properties and dictionary matched already; the size is unknown (all ones) or plausible, and the range
    coder's first byte is always zero."""
    if len(head) < 14 or head[13] != 0:
        return False
    size = int.from_bytes(head[5:13], "little")
    return size == (1 << 64) - 1 or size < 1 << 40


def _bzip2_header(head: memoryview) -> bool:
    return len(head) == 10 and head[3] in b"123456789" and bytes(head[4:10]) == b"1AY&SY"
