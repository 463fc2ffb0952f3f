"""DuckDB database files as the inspector reads them: the clear main header's "encrypted" flag, then (for a
plaintext file) the real engine opening it read-only and every base table's values read.

DuckDB's smallest block size (16 KiB) keeps a plaintext database with a few tables under 64 KiB. The reference
build's encrypted analytics file uses the default 256 KiB blocks (over 1 MiB): its seed is its first three 4 KiB
headers, all the detector reads of an encrypted file, and one encrypted file written the same way (the store's
``ATTACH`` options) with 16 KiB blocks gives the fuzzer a whole one.

Every header and block of a DuckDB file starts with a checksum of the rest of it, and DuckDB refuses a file
whose checksums do not match before it parses anything: random mutations would only ever test that refusal.
An attacker writing a hostile file computes the checksums, so the harness does too (``with_checksums``), for
the three 4 KiB headers and every 16 KiB block, and the fuzzer reaches the engine's deserialisation.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.fuzz._harness._inspect import CANARIES, KEY, VECTOR, InspectorHarness, reference_store_files
from aico_secure.inspector._detector.duckdb import ENCRYPTED_FLAG, MAGIC

SEED_LIMIT = 128 << 10
HEADERS = 3 * 4096
BLOCK = 16 << 10


class InspectDuckDbHarness(InspectorHarness):
    name = "inspect_duckdb"
    surface = "a DuckDB database file in a scanned directory: the duckdb detector and the engine (read-only)"
    max_len = SEED_LIMIT
    dictionary = (
        MAGIC, b"\x01\x00\x00\x00\x00\x00\x00\x00", b"\x00\x00\x00\x00\x00\x00\x00\x00", b"\x00\x40\x00\x00",
        b"\x00\x00\x04\x00", b"\xff\xff\xff\xff\xff\xff\xff\xff", b"v1.5.5", b"main", b"VARCHAR", b"BLOB",
        b"FLOAT[]", b"notes",
    )

    def layout(self, data: bytes) -> dict[str, bytes]:
        return {"analytics.duckdb": with_checksums(data)}

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        for path, content in reference_store_files("duckdb").items():
            if content[8:12] == MAGIC:
                yield f"reference-{Path(path).name}-headers", content[:HEADERS]
        yield from _engine_databases()


def checksum(data: bytes) -> int:
    """DuckDB's block checksum (``Checksum`` in ``checksum.cpp``): 5381 xor each little-endian 64-bit word times
    an odd constant, and a string hash for a tail that is not a whole word (never the case for whole blocks)."""
    import numpy as np

    words = np.frombuffer(data, dtype="<u8", count=len(data) // 8)
    with np.errstate(over="ignore"):
        mixed = words * np.uint64(0xBF58476D1CE4E5B9)
    return (int(np.bitwise_xor.reduce(mixed)) if len(mixed) else 0) ^ 5381


def with_checksums(data: bytes) -> bytes:
    """``data`` with the checksum of every whole header and block that follows DuckDB's layout recomputed. An
    encrypted file is left alone: the detector reads only its clear header flag, and its checksums differ."""
    if int.from_bytes(data[20:28], "little") & ENCRYPTED_FLAG:
        return data
    out = bytearray(data)
    spans = [(offset, 4096) for offset in (0, 4096, 8192)]
    spans += [(offset, BLOCK) for offset in range(HEADERS, len(out), BLOCK)]
    for offset, size in spans:
        if offset + size <= len(out):
            out[offset:offset + 8] = checksum(bytes(out[offset + 8:offset + size])).to_bytes(8, "little")
    return bytes(out)


def _engine_databases() -> Iterator[tuple[str, bytes]]:
    import duckdb
    import duckdb_extensions

    from aico_secure.stores import duckdb as store

    with tempfile.TemporaryDirectory(prefix="aico-fuzz-duckdb-") as scratch:
        con = duckdb.connect(config={"threads": 1})
        try:
            duckdb_extensions.import_extension("httpfs", con=con)  # DuckDB encrypts only with it loaded
            con.execute("LOAD httpfs")
            encrypted = f", ENCRYPTION_KEY {store._quote('fuzz-key-' + KEY.hex())}, ENCRYPTION_CIPHER 'GCM'"
            for name, options in (("plain", ""), ("encrypted", encrypted)):
                path = Path(scratch) / f"{name}.duckdb"
                con.execute(f"ATTACH {store._quote(str(path))} AS db (BLOCK_SIZE {BLOCK}{options})")
                con.execute("CREATE TABLE db.notes(id INTEGER, note VARCHAR, v FLOAT[], raw BLOB)")
                con.execute("INSERT INTO db.notes VALUES (?, ?, ?, ?), (2, 'short', NULL, NULL)",
                            [1, f"{CANARIES[0]} the note of my sister {CANARIES[1]}", list(VECTOR), KEY])
                con.execute("CREATE TABLE db.events AS SELECT range AS id, 'event ' || range AS what "
                            "FROM range(20)")
                con.execute("CREATE TABLE db.types AS SELECT INTERVAL (range) DAYS AS span, DATE '2024-01-01' + "
                            "range::INTEGER AS day, {'k': range} AS s, map(['a'], [range]) AS m, "
                            "range::DECIMAL(18, 2) AS d FROM range(4)")
                con.execute("DETACH db")
                content = path.read_bytes()
                if len(content) <= SEED_LIMIT:
                    yield f"duckdb-{name}", content
        finally:
            con.close()


HARNESS = InspectDuckDbHarness()
