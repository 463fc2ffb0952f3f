"""Parquet files: ``PAR1`` at both ends is a plaintext file (an encrypted footer ends in ``PARE``).

A plaintext Parquet file in an AICO data directory is an unencrypted export of analytics data and is reported
as a plaintext container (medium). Its values are read with DuckDB's Parquet reader and scanned: pages are
usually snappy- or zstd-compressed and dictionary-encoded, so a byte search would miss the canaries in them.
The reader runs in a child process (``_isolated``): a file that crashes it makes this file unreadable, not the
inspection stop.
"""

from __future__ import annotations

from aico_secure.inspector._detector import _isolated
from aico_secure.inspector._detector._tables import column_batcher, finish
from aico_secure.inspector.interface import Detector, Scope, Stream

MAGIC = b"PAR1"
ENCRYPTED_FOOTER = b"PARE"


class ParquetDetector(Detector):
    name = "parquet"
    raw_only = True

    def __init__(self) -> None:
        self._clock = _isolated.EngineClock()

    def begin_file(self, scope: Scope) -> None:
        self._clock.start_file()
        if scope.size >= 12 and scope.head[:4] == MAGIC and scope.tail[-4:] in (MAGIC, ENCRYPTED_FOOTER):
            scope.kind = "parquet"

    def end_file(self, scope: Scope) -> None:
        if scope.kind != "parquet":
            return
        if scope.tail[-4:] == ENCRYPTED_FOOTER:
            scope.observe(self.name, "Parquet file with an encrypted footer")
            return
        batcher = column_batcher(scope, "parquet")
        outcome = _isolated.read("parquet", scope.path, batcher, cap=scope.limits.decode_cap,
                                 seconds=self._clock.seconds_left(scope.limits))
        errors = [reason for _where, reason in outcome.table_errors]
        if outcome.refused is not None or errors or outcome.failure is not None:
            batcher.close()  # values read before the error are scanned: a later failure hides no finding
            if outcome.failure is not None:
                scope.unreadable("parquet", outcome.failure)
            else:
                scope.unreadable("parquet", f"cannot read the Parquet file: {outcome.refused or errors[0]}")
            return
        scope.report(Stream(container="parquet"), 0, "container:parquet", "plaintext-parquet", detector=self.name,
                     severity="medium", detail="Parquet file without encryption")
        finish(scope, batcher, "parquet", self.name)
