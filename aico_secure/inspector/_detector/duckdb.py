"""DuckDB database files: encrypted or not, and if not, what their cells hold.

AICO's analytics store is meant to be encrypted at the file level (DuckDB's own AES-GCM database encryption).
The main header is in clear in both cases (``DUCK`` at offset 8) and carries an "encrypted" flag; a file
without it is reported as a plaintext container (medium) whatever it holds. Its tables are then read with the
real engine and every value scanned: DuckDB compresses strings (dictionary, FSST), so a canary stored in a
plaintext DuckDB file is usually invisible to a byte search and only found this way. The engine runs in a
child process (``_isolated``): a file that crashes it makes this file unreadable, not the inspection stop.
"""

from __future__ import annotations

from aico_secure.inspector._detector import _isolated
from aico_secure.inspector._detector._tables import column_batcher, finish
from aico_secure.inspector.interface import Detector, Scope, Stream

MAGIC = b"DUCK"
ENCRYPTED_FLAG = 1


class DuckDbDetector(Detector):
    name = "duckdb"
    raw_only = True

    def __init__(self) -> None:
        self._clock = _isolated.EngineClock()

    def begin_file(self, scope: Scope) -> None:
        self._clock.start_file()
        if len(scope.head) >= 28 and scope.head[8:12] == MAGIC:
            scope.kind = "duckdb"

    def end_file(self, scope: Scope) -> None:
        if scope.kind != "duckdb":
            return
        flags = int.from_bytes(scope.head[20:28], "little")
        if flags & ENCRYPTED_FLAG:
            scope.observe(self.name, "DuckDB database, encrypted (header flag set)")
            return
        scope.report(Stream(container="duckdb"), 0, "container:duckdb", "plaintext-database", detector=self.name,
                     severity="medium", detail="DuckDB database file without encryption")
        batcher = column_batcher(scope, "duckdb")
        outcome = _isolated.read("duckdb", scope.path, batcher, cap=scope.limits.decode_cap,
                                 seconds=self._clock.seconds_left(scope.limits))
        if outcome.refused is not None:
            scope.unreadable("duckdb", f"cannot open the plaintext DuckDB file: {outcome.refused}")
            return
        for where, reason in outcome.table_errors:
            scope.unreadable(where, f"table not readable: {reason}")
        if outcome.failure is not None:
            scope.unreadable("duckdb", outcome.failure)
        finish(scope, batcher, "duckdb", self.name)  # what was read before a failure is scanned all the same
