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
import zstandard

from aico_secure.inspector.interface import Detector, Limits, Scope, Stream, Window
from aico_secure.inspector.needles import Needles, Pattern

FEED = 64 << 10
PROBE_IN, PROBE_OUT = 1024, 512
SNAPPY_FRAME_MAX = 1 << 16  # uncompressed bytes per chunk of the snappy framing format

MAGICS: tuple[tuple[str, bytes], ...] = (
    ("zlib", b"\x78\x01"), ("zlib", b"\x78\x5e"), ("zlib", b"\x78\x9c"), ("zlib", b"\x78\xda"),
    ("gzip", b"\x1f\x8b\x08"), ("zstd", b"\x28\xb5\x2f\xfd"), ("lz4-frame", b"\x04\x22\x4d\x18"),
    ("snappy-framed", b"\xff\x06\x00\x00sNaPpY"), ("bzip2", b"BZh"), ("xz", b"\xfd7zXZ\x00"),
)


class DecodeFailed(Exception):
    """The bytes are not (or stop being) a valid stream of the expected format."""


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


class _Decoder(Protocol):
    def __call__(self, source: _Source, limits: Limits) -> Iterator[bytes]: ...


def _zlib(wbits: int) -> _Decoder:
    """zlib and gzip: ``decompress(data, max_length)`` keeps what it did not use in ``unconsumed_tail``."""

    def decode(source: _Source, limits: Limits) -> Iterator[bytes]:
        dec = zlib.decompressobj(wbits)
        while not dec.eof:
            data = dec.unconsumed_tail or source.read()
            if not data:
                return
            try:
                out = dec.decompress(data, limits.decode_chunk)
            except zlib.error as exc:
                raise DecodeFailed(str(exc)[:80]) from None
            if out:
                yield out

    return decode


class _Buffered(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

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
                    return
            try:
                out = dec.decompress(data, limits.decode_chunk)
            except (OSError, EOFError, lzma.LZMAError, ValueError, RuntimeError) as exc:
                raise DecodeFailed(type(exc).__name__) from None
            if out:
                yield out

    return decode


def _zstd(source: _Source, limits: Limits) -> Iterator[bytes]:
    reader = zstandard.ZstdDecompressor().stream_reader(source, read_size=FEED,  # type: ignore[arg-type]
                                                        read_across_frames=False, closefd=False)
    while True:
        try:
            out = reader.read(limits.decode_chunk)
        except zstandard.ZstdError as exc:
            # Trailing bytes after a finished frame also end up here: what was produced is still scanned.
            raise DecodeFailed(str(exc)[:80]) from None
        if not out:
            return
        yield out


def _read_exact(source: _Source, size: int) -> bytes:
    data = b""
    while len(data) < size:
        piece = source.read(size - len(data))
        if not piece:
            raise DecodeFailed("truncated")
        data += piece
    return data


def _snappy_framed(source: _Source, limits: Limits) -> Iterator[bytes]:
    """The snappy framing format: chunks of at most 64 KiB uncompressed, each checked before decoding."""
    _read_exact(source, 10)  # the stream identifier, already matched
    while True:
        header = source.read(4)
        if len(header) < 4:
            return
        kind, length = header[0], int.from_bytes(header[1:4], "little")
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
        elif kind == 0xFF:
            continue  # a repeated stream identifier (concatenated streams)
        elif kind < 0x80:
            raise DecodeFailed(f"reserved unskippable chunk type {kind:#x}")


DECODERS: dict[str, _Decoder] = {
    "zlib": _zlib(zlib.MAX_WBITS),
    "gzip": _zlib(16 + zlib.MAX_WBITS),
    "bzip2": _buffered(bz2.BZ2Decompressor),
    "xz": _buffered(lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ)),
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
    except DecodeFailed as exc:
        state["error"] = str(exc)
    finally:
        state["produced"] = produced


class CompressedDetector(Detector):
    name = "compressed"

    def prepare(self, needles: Needles) -> list[Pattern]:
        return [Pattern(f"magic:{fmt}", fmt, magic, self.name) for fmt, magic in MAGICS]

    def matched(self, scope: Scope, stream: Stream, window: Window, pattern: Pattern, start: int, end: int) -> None:
        fmt = pattern.encoding
        offset = window.start + start
        skip = stream.state.setdefault(self.name, {"skip_until": 0})
        if offset < skip["skip_until"] or stream.depth >= scope.limits.max_depth:
            return
        if fmt == "bzip2" and not _bzip2_header(window.data[start:start + 10]):
            return
        if fmt in ("zlib", "gzip") and not _inflates(window.data[start:start + PROBE_IN], fmt):
            return  # a two-byte zlib header turns up by chance every 16 KiB of random data: reject cheaply
        more = scope.read_at if stream.raw else None
        source = _Source(window.data, start, more, window.start + len(window.data))
        state: dict[str, object] = {}
        where = f"{fmt}@{offset}" if stream.raw else f"{stream.container}>{fmt}@{offset}"
        scanned = scope.scan_decoded(bounded(DECODERS[fmt](source, scope.limits), scope.limits, state),
                                     container=where, origin=offset if stream.raw else stream.origin or 0,
                                     parent=stream)
        if state.get("capped"):
            scope.unreadable(where, f"decompressed output exceeds the cap of {scope.limits.decode_cap} bytes; "
                             "the rest was not inspected")
        if state.get("complete") and scanned:
            skip["skip_until"] = offset + source.consumed
            scope.observe(self.name, f"{where}: {scanned} bytes decompressed and scanned", decoded=scanned)

    def end_file(self, scope: Scope) -> None:
        """Whole-file raw blocks: snappy (length varint first) and LZ4 with its 4-byte size prefix."""
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


def _inflates(head: memoryview, fmt: str) -> bool:
    """Does the start of a zlib/gzip candidate decode for a while? Chance headers fail within a few bytes."""
    try:
        dec = zlib.decompressobj(zlib.MAX_WBITS if fmt == "zlib" else 16 + zlib.MAX_WBITS)
        dec.decompress(head, PROBE_OUT)
    except zlib.error:
        return False
    return True


def _bzip2_header(head: memoryview) -> bool:
    return len(head) == 10 and head[3] in b"123456789" and bytes(head[4:10]) == b"1AY&SY"
