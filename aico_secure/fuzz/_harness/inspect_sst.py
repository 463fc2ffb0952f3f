"""RocksDB SST and blob files as the inspector reads them: footer, metaindex, (two-level) index, block
decompression (``_sst``), and blob-file records (``rocksdb_blob``), all driven by offsets the file itself gives.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.fuzz._harness._inspect import CANARIES, KEY, InspectorHarness, reference_store_files
from aico_secure.inspector._detector import _sst
from aico_secure.inspector._detector.rocksdb_blob import MAGIC as BLOB_MAGIC

SEED_LIMIT = 64 << 10


class InspectSstHarness(InspectorHarness):
    name = "inspect_sst"
    surface = "a RocksDB SST or blob file in a scanned directory: the rocksdb-sst and rocksdb-blob detectors"
    max_len = SEED_LIMIT
    dictionary = (
        _sst.MAGIC.to_bytes(8, "little"), _sst.LEGACY_MAGIC.to_bytes(8, "little"), _sst.EXTENDED_MAGIC, BLOB_MAGIC,
        b"rocksdb.index", b"rocksdb.properties", _sst.INDEX_TYPE_PROPERTY, b"rocksdb.filter", b"rocksdb.compression",
        b"rocksdb.block.based.table.prefix.filtering", b"\x00\x00\x00\x00", b"\x01\x00\x00\x00", b"\xff\xff\xff\x7f",
        b"\x80\x80\x80\x80\x0f", b"\x01", b"\x04", b"\x07", b"\x06\x00\x00\x00", b"\x05\x00\x00\x00",
    )

    def layout(self, data: bytes) -> dict[str, bytes]:
        return {"000013.blob" if data[:4] == BLOB_MAGIC else "000012.sst": data}

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        for path, content in reference_store_files("rocksdb").items():
            if path.endswith((".sst", ".blob")) and len(content) <= SEED_LIMIT:
                yield f"reference-{Path(path).name}", content
        yield from _rocksdict_ssts()


def _rocksdict_ssts() -> Iterator[tuple[str, bytes]]:
    """Plaintext SSTs from the engine itself: every compression the parser decodes, old and new footers, a
    two-level index, a blob file with compressed values. Small blocks so a few KiB hold several of each."""
    from rocksdict import BlockBasedIndexType, BlockBasedOptions, DBCompressionType, Options, Rdict

    variants = [(c, 5, "binary") for c in ("snappy", "lz4", "zstd", "bz2", "none")]
    variants += [("lz4", 6, "binary"), ("zstd", 2, "two_level"), ("snappy", 6, "two_level"), ("none", 4, "binary")]
    for compression, version, index in variants:
        with tempfile.TemporaryDirectory(prefix="aico-fuzz-sst-") as scratch:
            options = Options(raw_mode=True)
            options.set_compression_type(getattr(DBCompressionType, compression)())
            table = BlockBasedOptions()
            table.set_block_size(1024)
            table.set_format_version(version)
            table.set_index_type({"binary": BlockBasedIndexType.binary_search(),
                                  "two_level": BlockBasedIndexType.two_level_index_search(),
}[index])
            if index == "two_level":
                table.set_metadata_block_size(256)
            options.set_block_based_table_factory(table)
            if compression == "zstd" and index == "two_level":
                options.set_enable_blob_files(True)
                options.set_min_blob_size(32)
                options.set_blob_compression_type(DBCompressionType.zstd())
            db = Rdict(str(Path(scratch) / "db"), options)
            try:
                for i in range(120):
                    db[f"k{i:04d}".encode()] = f"{i} the value of my sister's note, lorem ipsum {i}".encode()
                db[b"k0060x"] = f"{CANARIES[0]} {CANARIES[1]} ".encode() * 2 + KEY
                db.flush()
            finally:
                db.close()
            for path in sorted(Path(scratch, "db").iterdir()):
                if path.suffix in (".sst", ".blob") and path.stat().st_size <= SEED_LIMIT:
                    yield f"rocksdict-{compression}-v{version}-{index}{path.suffix}", path.read_bytes()


HARNESS = InspectSstHarness()
