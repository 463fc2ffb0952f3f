"""Parquet files: ``PAR1`` at both ends is a plaintext file (an encrypted footer ends in ``PARE``).

A plaintext Parquet file in an AICO data directory is an unencrypted export of analytics data and is reported
as a plaintext container (medium). Its values are read with DuckDB's Parquet reader and scanned: pages are
usually snappy- or zstd-compressed and dictionary-encoded, so a byte search would miss the canaries in them.
"""

from __future__ import annotations

from aico_secure.inspector._detector import _duck
from aico_secure.inspector._detector._tables import column_batcher, finish
from aico_secure.inspector.interface import Detector, Scope, Stream

MAGIC = b"PAR1"
ENCRYPTED_FOOTER = b"PARE"


class ParquetDetector(Detector):
    name = "parquet"
    raw_only = True

    def begin_file(self, scope: Scope) -> None:
        if scope.size >= 12 and scope.head[:4] == MAGIC and scope.tail[-4:] in (MAGIC, ENCRYPTED_FOOTER):
            scope.kind = "parquet"

    def end_file(self, scope: Scope) -> None:
        if scope.kind != "parquet":
            return
        if scope.tail[-4:] == ENCRYPTED_FOOTER:
            scope.observe(self.name, "Parquet file with an encrypted footer")
            return
        import duckdb

        batcher = column_batcher(scope, "parquet")
        try:
            con = _duck.connect(allow=str(scope.path))
            try:
                _duck.feed_query(con, "SELECT * FROM read_parquet(?)", (str(scope.path),), "", batcher)
            finally:
                con.close()
        except duckdb.Error as exc:
            scope.unreadable("parquet", f"cannot read the Parquet file: {str(exc)[:200]}")
            return
        scope.report(Stream(container="parquet"), 0, "container:parquet", "plaintext-parquet", detector=self.name,
                     severity="medium", detail="Parquet file without encryption")
        finish(scope, batcher, "parquet", self.name)
