"""Canaries inside compressed data: real zlib/gzip/zstd/LZ4/snappy/bzip2/xz streams embedded in files, raw
snappy and LZ4 blocks as whole files, and real RocksDB SST files written by rocksdict with compression on.

(RocksDB's zlib option is not among the SST cases: the RocksDB bundled with rocksdict writes such blocks
uncompressed, so that case would not test decompression. The SST parser's raw-deflate path is the same code
as the other varint-prefixed formats.)"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import zlib
from pathlib import Path

import cramjam
import lz4.block
import lz4.frame
import pytest
import zstandard
from rocksdict import DBCompressionType, Options, Rdict

from aico_secure.inspector import Limits, inspect_tree
from verification.inspector.conftest import Inspect


def _payload(canary: str) -> bytes:
    """Compressible user data: a chat log with the canary once in the middle."""
    lines = [f"{i:05d} user: hello, how was the day? assistant: fine, thanks" for i in range(2000)]
    lines[1000] = f"01000 user: my secret is {canary}"
    return "\n".join(lines).encode()


COMPRESSORS = {
    "zlib": lambda d: zlib.compress(d, 9),
    "gzip": gzip.compress,
    "zstd": lambda d: zstandard.ZstdCompressor(level=3).compress(d),
    "lz4-frame": lz4.frame.compress,
    "snappy-framed": lambda d: bytes(cramjam.snappy.compress(d)),
    "bzip2": bz2.compress,
    "xz": lzma.compress,
}


@pytest.mark.parametrize("fmt", sorted(COMPRESSORS))
def test_stream_embedded_in_a_binary_file(tmp_path: Path, inspect: Inspect, canary: str, fmt: str) -> None:
    stream = COMPRESSORS[fmt](_payload(canary))
    (tmp_path / "cache.bin").write_bytes(os.urandom(3001) + stream + os.urandom(999))
    # LZ4 and snappy may leave the canary's bytes as a literal run: only decoded hits are counted here.
    found = [f for f in inspect(canaries=[canary]).findings if f.encoding == "utf-8" and f.container != "file"]
    assert [(f.container, f.offset) for f in found] == [(f"{fmt}@3001", 3001)]
    assert found[0].decoded_offset == _payload(canary).index(canary.encode())


def test_stream_longer_than_a_window_is_read_on_from_the_file(tmp_path: Path, canary: str) -> None:
    data = os.urandom(300_000) + _payload(canary)  # incompressible head: the canary sits far into the stream
    stream = zlib.compress(data)
    (tmp_path / "x.bin").write_bytes(os.urandom(10) + stream)
    result = inspect_tree(tmp_path, canaries=[canary], limits=Limits(window_bytes=64 << 10))
    assert any(f.container == "zlib@10" and f.encoding == "utf-8" for f in result.findings)


@pytest.mark.parametrize("fmt", ["snappy-raw", "lz4-block"])
def test_raw_blocks_without_magic_as_whole_files(tmp_path: Path, inspect: Inspect, canary: str, fmt: str) -> None:
    data = _payload(canary)
    block = bytes(cramjam.snappy.compress_raw(data)) if fmt == "snappy-raw" else lz4.block.compress(data)
    (tmp_path / "value.blk").write_bytes(block)
    found = [f.container for f in inspect(canaries=[canary]).findings if f.encoding == "utf-8"]
    assert f"{fmt}@0" in found and set(found) <= {f"{fmt}@0", "file"}


def test_decompression_bomb_is_capped_and_reported(tmp_path: Path, canary: str) -> None:
    bomb = zlib.compress(bytes(64 << 20) + canary.encode(), 9)  # 64 MiB of zeros, then the canary
    (tmp_path / "bomb.bin").write_bytes(bomb)
    result = inspect_tree(tmp_path, canaries=[canary], limits=Limits(decode_cap=4 << 20))
    assert not result.clean
    assert any("cap" in reason for reason in result.unreadable_reasons.values())
    assert result.decoded_bytes <= 4 << 20


@pytest.mark.parametrize("compression", ["snappy", "lz4", "lz4hc", "zstd", "bz2", "none"])
def test_rocksdb_sst_blocks(tmp_path: Path, inspect: Inspect, canary: str, compression: str) -> None:
    options = Options()
    options.set_compression_type(getattr(DBCompressionType, compression)())
    db = Rdict(str(tmp_path / "db"), options)
    try:
        filler = "lorem ipsum dolor sit amet " * 8
        for i in range(3000):
            db[f"k{i:05d}".encode()] = f"{filler}{i}".encode()
        db[b"k01500x"] = f"{filler} {canary} {filler}".encode()
        db.flush()
    finally:
        db.close()
    result = inspect(canaries=[canary])
    in_blocks = [f for f in result.findings if f.container.startswith("rocksdb-sst:block@") and f.encoding == "utf-8"]
    assert in_blocks and in_blocks[0].container.endswith(f"/{'bzip2' if compression == 'bz2' else compression}")
    assert not result.unreadable
    assert any("RocksDB SST" in o.detail for o in result.observations)


@pytest.mark.parametrize("compression", ["lz4", "zstd", "snappy"])
def test_rocksdb_blob_files_with_compressed_values(tmp_path: Path, inspect: Inspect, canary: str,
                                                   compression: str) -> None:
    options = Options()
    options.set_enable_blob_files(True)
    options.set_min_blob_size(64)
    options.set_blob_compression_type(getattr(DBCompressionType, compression)())
    db = Rdict(str(tmp_path / "db"), options)
    try:
        for i in range(40):
            db[f"k{i}".encode()] = f"{i} {'lorem ipsum dolor ' * 30}".encode()
        db[b"secret"] = f"{'lorem ipsum dolor ' * 30} {canary} {'lorem ipsum dolor ' * 30}".encode()
        db.flush()
    finally:
        db.close()
    assert list((tmp_path / "db").glob("*.blob")), "rocksdict wrote no blob file"
    result = inspect(canaries=[canary])
    decoded = [f for f in result.findings if f.container.startswith("rocksdb-blob:record@")]
    assert decoded and decoded[0].container.endswith(f"/{compression}") and not result.unreadable
