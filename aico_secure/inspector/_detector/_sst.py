"""Just enough of RocksDB's block-based table format to find and decompress every block of an SST file.

Layout (``table/format.cc``): data blocks from offset 0, each followed by a 5-byte trailer (compression type,
checksum); then meta blocks, the metaindex block and a fixed-size footer ending in the table magic number.

* footer, format_version 1-5: checksum type, metaindex handle, index handle (varints), padding, version, magic;
  legacy (magic ``0xdb4775248b80fb57``): the two handles, padding, magic.
* footer, format_version >= 6: checksum type, extended magic ``3e 00 7a 00``, footer checksum, base context
  checksum, metaindex size (the metaindex block ends right before the footer), padding, version, magic; the
  index handle is the metaindex entry ``rocksdb.index``.
* a block is a sequence of entries ``shared, non_shared, value_len`` (varint32) + key delta + value, then a
  restart array and its length. Index blocks of format_version >= 4 omit ``value_len`` and delta-encode
  handles: entries with ``shared > 0`` hold only the size difference to the previous handle.
* compressed blocks (format_version >= 2) of zlib, bzip2, LZ4 and zstd start with the decompressed size as a
  varint32; snappy blocks carry their own length. zlib here is raw deflate.

Nothing is trusted: every varint, handle and size is bounds-checked, decompressed sizes are capped, and any
inconsistency raises ``SstError`` (the file is then reported as not fully inspected, never as clean).
"""

from __future__ import annotations

import bz2
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cramjam
import lz4.block

MAGIC = 0x88E241B785F4CFF7
LEGACY_MAGIC = 0xDB4775248B80FB57
FOOTER_BYTES = 53
LEGACY_FOOTER_BYTES = 48
TRAILER = 5
EXTENDED_MAGIC = b"\x3e\x00\x7a\x00"
COMPRESSION = {0: "none", 1: "snappy", 2: "zlib", 3: "bzip2", 4: "lz4", 5: "lz4hc", 6: "xpress", 7: "zstd"}
INDEX_TYPE_PROPERTY = b"rocksdb.block.based.table.index.type"
INDEX_BINARY, INDEX_HASH, INDEX_TWO_LEVEL, INDEX_FIRST_KEY = 0, 1, 2, 3

Reader = Callable[[int, int], bytes]


class SstError(Exception):
    """The file is not a block-based table this parser understands, or it is inconsistent."""


@dataclass(frozen=True)
class Handle:
    offset: int
    size: int


@dataclass(frozen=True)
class Footer:
    format_version: int
    metaindex: Handle
    index: Handle | None  # None for format_version >= 6: read it from the metaindex


def is_sst(tail: bytes) -> bool:
    return len(tail) >= 8 and int.from_bytes(tail[-8:], "little") in (MAGIC, LEGACY_MAGIC)


def varint(buf: bytes, pos: int, limit: int | None = None) -> tuple[int, int]:
    end = len(buf) if limit is None else limit
    result = shift = 0
    while pos < end and shift <= 63:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
    raise SstError("bad varint")


def _handle(buf: bytes, pos: int, limit: int | None = None) -> tuple[Handle, int]:
    offset, pos = varint(buf, pos, limit)
    size, pos = varint(buf, pos, limit)
    return Handle(offset, size), pos


def read_footer(read: Reader, file_size: int) -> Footer:
    if file_size < LEGACY_FOOTER_BYTES:
        raise SstError("file too small for a footer")
    tail = read(file_size - FOOTER_BYTES, FOOTER_BYTES) if file_size >= FOOTER_BYTES else b""
    magic = int.from_bytes(read(file_size - 8, 8), "little")
    if magic == LEGACY_MAGIC:
        legacy = read(file_size - LEGACY_FOOTER_BYTES, LEGACY_FOOTER_BYTES)
        metaindex, pos = _handle(legacy, 0, 40)
        index, _ = _handle(legacy, pos, 40)
        return Footer(0, metaindex, index)
    if magic != MAGIC or len(tail) != FOOTER_BYTES:
        raise SstError("no block-based table magic")
    version = int.from_bytes(tail[41:45], "little")
    footer_offset = file_size - FOOTER_BYTES
    if version >= 6:
        if tail[1:5] != EXTENDED_MAGIC:
            raise SstError("format_version >= 6 footer without its extended magic")
        size = int.from_bytes(tail[13:17], "little")
        return Footer(version, Handle(footer_offset - TRAILER - size, size), None)
    metaindex, pos = _handle(tail, 1, 41)
    index, _ = _handle(tail, pos, 41)
    return Footer(version, metaindex, index)


def read_block(read: Reader, file_size: int, handle: Handle, format_version: int, cap: int) -> tuple[bytes, str]:
    """The decompressed contents of one block and the name of its compression."""
    if handle.offset < 0 or handle.size < 0 or handle.offset + handle.size + TRAILER > file_size:
        raise SstError(f"block handle {handle.offset}+{handle.size} outside the file")
    _check(handle.size, cap)  # never read a block larger than what may be decoded
    raw = read(handle.offset, handle.size + TRAILER)
    if len(raw) != handle.size + TRAILER:
        raise SstError("short read")
    ctype = raw[handle.size]
    name = COMPRESSION.get(ctype)
    if name is None:
        raise SstError(f"unknown compression type {ctype}")
    return decompress(raw[:handle.size], name, format_version, cap), name


def decompress(payload: bytes, name: str, format_version: int, cap: int) -> bytes:
    import zstandard  # here, not at start-up: see ``compressed._zstd``

    if name == "none":
        return payload
    try:
        if name == "snappy":
            size = cramjam.snappy.decompress_raw_len(payload)
            _check(size, cap)
            return bytes(cramjam.snappy.decompress_raw(payload))
        if format_version < 2:
            raise SstError(f"{name} blocks of format_version {format_version} are not supported")
        size, pos = varint(payload, 0)
        _check(size, cap)
        body = payload[pos:]
        if name == "zlib":
            dec = zlib.decompressobj(-zlib.MAX_WBITS)
            out = dec.decompress(body, size + 1)
        elif name == "bzip2":
            out = bz2.BZ2Decompressor().decompress(body, size + 1)
        elif name in ("lz4", "lz4hc"):
            out = lz4.block.decompress(body, uncompressed_size=size)
        elif name == "zstd":
            out = zstandard.ZstdDecompressor().decompress(body, max_output_size=size)
        else:
            raise SstError(f"{name} compression is not supported")
    except (cramjam.DecompressionError, zlib.error, OSError, EOFError, ValueError, lz4.block.LZ4BlockError,
            zstandard.ZstdError) as exc:
        raise SstError(f"{name} block does not decompress: {type(exc).__name__}") from None
    if len(out) != size:
        raise SstError(f"{name} block decompressed to {len(out)} bytes, header says {size}")
    return out


def _check(size: int, cap: int) -> None:
    if size > cap:
        raise SstError(f"block claims {size} decompressed bytes, over the cap of {cap}")


def entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """``(key, value)`` of each entry of a block with length-prefixed values (metaindex, properties, old-format
    index blocks)."""
    end = _entries_end(block)
    pos = 0
    key = b""
    while pos < end:
        shared, pos = varint(block, pos, end)
        non_shared, pos = varint(block, pos, end)
        value_len, pos = varint(block, pos, end)
        if shared > len(key) or pos + non_shared + value_len > end:
            raise SstError("entry outside its block")
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        yield key, block[pos:pos + value_len]
        pos += value_len


def _entries_end(block: bytes) -> int:
    if len(block) < 4:
        raise SstError("block too small")
    restarts = int.from_bytes(block[-4:], "little") & 0x7FFFFFFF  # the top bit flags a data-block hash index
    end = len(block) - 4 - 4 * restarts
    if restarts == 0 or end < 0:
        raise SstError("bad restart array")
    return end


def index_handles(block: bytes, *, value_delta: bool, first_key: bool, limit: int | None = None) -> list[Handle]:
    """The block handles listed by an index block (or by one partition of a two-level index); more than
    ``limit`` of them raises (a file of n bytes holds at most n / ``TRAILER`` blocks)."""
    if not value_delta:
        listed = []
        for _key, value in entries(block):
            listed.append(_handle(value, 0)[0])
            _room(listed, limit)
        return listed
    end = _entries_end(block)
    pos = 0
    handles = []
    previous: Handle | None = None
    while pos < end:
        shared, pos = varint(block, pos, end)
        non_shared, pos = varint(block, pos, end)
        pos += non_shared
        if pos > end:
            raise SstError("entry outside its block")
        if shared == 0 or previous is None:
            handle, pos = _handle(block, pos, end)
        else:
            raw_delta, pos = varint(block, pos, end)
            delta = (raw_delta >> 1) ^ -(raw_delta & 1)  # zigzag
            handle = Handle(previous.offset + previous.size + TRAILER, previous.size + delta)
        if first_key:  # the first key of the block follows the handle, delta-encoded or not
            length, pos = varint(block, pos, end)
            pos += length
        handles.append(handle)
        _room(handles, limit)
        previous = handle
    return handles


def _room(handles: list[Handle], limit: int | None) -> None:
    if limit is not None and len(handles) > limit:
        raise SstError("the index lists more blocks than the file can hold")


def metaindex(block: bytes) -> dict[bytes, Handle]:
    return {key: _handle(value, 0)[0] for key, value in entries(block)}


def index_type(properties: bytes) -> int:
    for key, value in entries(properties):
        if key == INDEX_TYPE_PROPERTY and len(value) >= 4:
            return int.from_bytes(value[:4], "little")
    return INDEX_BINARY
