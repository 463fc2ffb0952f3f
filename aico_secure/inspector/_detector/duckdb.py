"""DuckDB database files: encrypted or not, and if not, what their cells hold.

AICO's analytics store is meant to be encrypted at the file level (DuckDB's own AES-GCM database encryption).
The main header is in clear in both cases (``DUCK`` at offset 8) and carries an "encrypted" flag; a file
without it is reported as a plaintext container (medium) whatever it holds. Its tables are then read with the
real engine and every value scanned: DuckDB compresses strings (dictionary, FSST), so a canary stored in a
plaintext DuckDB file is usually invisible to a byte search and only found this way.
"""

from __future__ import annotations

from aico_secure.inspector._detector import _duck
from aico_secure.inspector._detector._tables import column_batcher, finish
from aico_secure.inspector.interface import Detector, Scope, Stream

MAGIC = b"DUCK"
ENCRYPTED_FLAG = 1


class DuckDbDetector(Detector):
    name = "duckdb"
    raw_only = True

    def begin_file(self, scope: Scope) -> None:
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
        import duckdb

        batcher = column_batcher(scope, "duckdb")
        try:
            con = _duck.connect(str(scope.path))
        except duckdb.Error as exc:
            scope.unreadable("duckdb", f"cannot open the plaintext DuckDB file: {str(exc)[:200]}")
            return
        try:
            for catalog, schema, table in _duck.base_tables(con):
                if batcher.capped:
                    break
                sql = f"SELECT * FROM {_duck.quote(catalog)}.{_duck.quote(schema)}.{_duck.quote(table)}"  # noqa: S608
                try:
                    _duck.feed_query(con, sql, (), f"{schema}.{table}.", batcher)
                except duckdb.Error as exc:
                    scope.unreadable(f"duckdb:{schema}.{table}", f"table not readable: {str(exc)[:200]}")
        finally:
            con.close()
        finish(scope, batcher, "duckdb", self.name)
