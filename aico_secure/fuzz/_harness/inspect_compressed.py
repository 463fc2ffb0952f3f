"""Compressed streams and ZIP members as the inspector reads them: found by magic number anywhere in a file
(``compressed``), by local header (``archive``), or as a whole file that is one raw snappy / LZ4 / deflate
block, then decoded with bounded output and scanned again, nested up to ``max_depth``.

Seeds are canary prose compressed by the real libraries in every format the detectors decode, alone, inside
ZIP archives written by ``zipfile``, nested, and embedded in binary bytes.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import zipfile
import zlib
from collections.abc import Callable, Iterator

import cramjam
import lz4.block
import lz4.frame
import zstandard

from aico_secure.fuzz._harness._inspect import KEY, InspectorHarness, canary_text
from aico_secure.inspector._detector.archive import LOCAL_HEADER
from aico_secure.inspector._detector.compressed import MAGICS, UNDECODED

SUFFIXES = {"zlib": ".zz", "gzip": ".gz", "zstd": ".zst", "lz4-frame": ".lz4", "snappy-framed": ".sz", "bzip2": ".bz2",
            "xz": ".xz", "lzma-alone": ".lzma"}
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "zlib": lambda d: zlib.compress(d, 9),
    "gzip": lambda d: gzip.compress(d, mtime=0),
    "zstd": lambda d: zstandard.ZstdCompressor(level=3).compress(d),
    "lz4-frame": lz4.frame.compress,
    "snappy-framed": lambda d: bytes(cramjam.snappy.compress(d)),
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "lzma-alone": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
}


def _filler(size: int) -> bytes:
    """Deterministic incompressible bytes (ciphertext-like), so seeds are the same on every run."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(counter.to_bytes(4, "little")).digest()
        counter += 1
    return out[:size]


def _zip(members: list[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = method
            archive.writestr(info, data)
    return buffer.getvalue()


class InspectCompressedHarness(InspectorHarness):
    name = "inspect_compressed"
    surface = "a compressed stream, archive or raw block in a scanned file: the compressed and zip detectors"
    max_len = 64 << 10
    dictionary = tuple(dict.fromkeys([m for _f, m in MAGICS] + [m for _f, m in UNDECODED] + [
        LOCAL_HEADER, b"PK\x01\x02", b"PK\x05\x06", b"PK\x07\x08", b"1AY&SY", b"\x17rE8P\x90", b"sNaPpY",
        b"\x00\x00\x00\x00\xff\xff\xff\xff", b"\xff\xff\xff\xff\xff\xff\xff\xff", b"\x08\x00", b"\x0e\x00",
        b"\x0c\x00", b"\x5d\x00", b"\x63\x00", b"\x09\x00\x05\x00", b"\x14\x00", b"\x01\x00", b"\x03\x00",
    ]))

    def layout(self, data: bytes) -> dict[str, bytes]:
        suffix = next((SUFFIXES[fmt] for fmt, magic in MAGICS if data.startswith(magic) and fmt in SUFFIXES),
                      ".zip" if data.startswith(LOCAL_HEADER) else ".snappy")
        return {f"cache{suffix}": data}

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        text = canary_text()
        for fmt, compress in COMPRESSORS.items():
            yield f"{fmt}", compress(text)
        yield "zstd-multiframe", COMPRESSORS["zstd"](text[:900]) + COMPRESSORS["zstd"](text[900:])
        yield "embedded-gzip-xz", _filler(3001) + COMPRESSORS["gzip"](text) + _filler(99) + COMPRESSORS["xz"](text)
        yield "snappy-raw", bytes(cramjam.snappy.compress_raw(text))
        yield "lz4-block", lz4.block.compress(text)
        raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        yield "deflate-raw", raw.compress(text) + raw.flush()
        yield "gzip-in-gzip", COMPRESSORS["gzip"](COMPRESSORS["gzip"](text))
        yield "zip", _zip([("notes.txt", text, zipfile.ZIP_DEFLATED), ("key.bin", KEY, zipfile.ZIP_STORED),
                           ("notes.lzma", text, zipfile.ZIP_LZMA), ("notes.bz2", text, zipfile.ZIP_BZIP2)])
        yield "zip-in-zstd", COMPRESSORS["zstd"](_zip([("inner.txt", text, zipfile.ZIP_DEFLATED)]))
        yield "tar-xz-like", COMPRESSORS["xz"](_zip([("a.txt.gz", COMPRESSORS["gzip"](text), zipfile.ZIP_STORED)]))


HARNESS = InspectCompressedHarness()
