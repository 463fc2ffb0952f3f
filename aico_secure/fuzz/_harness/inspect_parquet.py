"""Parquet files as the inspector reads them: ``PAR1`` at both ends (``PARE`` for an encrypted footer), then
DuckDB's Parquet reader reading every value (a Thrift footer, pages compressed and dictionary-encoded), each
converted to Python.

Seeds are what DuckDB's ``COPY ... TO ... (FORMAT parquet)`` writes (pyarrow is not a dependency): every
compression the reader decodes, dictionary and plain pages, nested and temporal types (whose conversion to
Python can fail), and a file with an encrypted footer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.fuzz._harness._inspect import CANARIES, KEY, VECTOR, InspectorHarness
from aico_secure.inspector._detector.parquet import ENCRYPTED_FOOTER, MAGIC

SEED_LIMIT = 64 << 10


class InspectParquetHarness(InspectorHarness):
    name = "inspect_parquet"
    surface = "a Parquet file in a scanned directory: the parquet detector and DuckDB's Parquet reader"
    max_len = SEED_LIMIT
    dictionary = (
        MAGIC, ENCRYPTED_FOOTER, b"\x15\x00", b"\x15\x02", b"\x15\x04", b"\x15\x06", b"\x19\x1c", b"\x19\x0c",
        b"\x16\x00", b"\x18", b"\x1c", b"\x26", b"\x00\x00\x00\x00", b"\xff\xff\xff\x7f", b"duckdb", b"note",
        b"schema", b"list", b"element",
    )

    def layout(self, data: bytes) -> dict[str, bytes]:
        return {"export.parquet": data}

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        import duckdb

        query = ("SELECT i AS id, CASE WHEN i % 7 = 3 THEN ? ELSE 'note ' || (i % 5) END AS note, "
                 "?::FLOAT[] AS v, ?::BLOB AS raw, i / 3.0 AS n, INTERVAL (i) MONTHS AS span, "
                 "TIMESTAMP '2024-01-01' + INTERVAL (i) HOURS AS at, {'k': i, 'tag': 'x'} AS s, "
                 "map(['a'], [i]) AS m, ('00000000-0000-4000-8000-' || lpad(i::VARCHAR, 12, '0'))::UUID AS u, "
                 " i::DECIMAL(18, 3) AS d FROM range(12) t(i)")
        params = [f"{CANARIES[0]} the note of my sister {CANARIES[1]}", list(VECTOR), KEY]
        with tempfile.TemporaryDirectory(prefix="aico-fuzz-parquet-") as scratch:
            con = duckdb.connect(config={"threads": 1})
            try:
                variants = [(c, f"COMPRESSION {c}") for c in ("uncompressed", "snappy", "zstd", "gzip", "lz4")]
                variants.append(("encrypted", "ENCRYPTION_CONFIG {footer_key: 'fuzzkey'}"))
                con.execute("PRAGMA add_parquet_key('fuzzkey', '0123456789112345')")
                for name, options in variants:
                    path = Path(scratch) / f"{name}.parquet"
                    con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet, {options})", params)
                    content = path.read_bytes()
                    if len(content) <= SEED_LIMIT:
                        yield f"duckdb-{name}", content
            finally:
                con.close()


HARNESS = InspectParquetHarness()
