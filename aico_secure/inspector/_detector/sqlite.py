"""Unencrypted SQLite databases (``SQLite format 3`` header; SQLCipher encrypts the header too).

A plaintext SQLite file is not a finding by itself: a vector store may keep its bookkeeping in SQLite while
sealing every document. What matters is what the cells hold, so the database is opened read-only and
immutable with the real engine (never written, WAL ignored: the WAL file is scanned raw like any file), and
every cell of every table is scanned decoded (a value split across overflow pages is whole again). Columns
holding prose are reported as a readable plaintext container (medium).
"""

from __future__ import annotations

import sqlite3
import urllib.parse

from aico_secure.inspector._detector._tables import column_batcher, finish
from aico_secure.inspector.interface import Detector, Scope

MAGIC = b"SQLite format 3\x00"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteDetector(Detector):
    name = "sqlite"
    raw_only = True

    def begin_file(self, scope: Scope) -> None:
        if scope.head.startswith(MAGIC):
            scope.kind = "sqlite"

    def end_file(self, scope: Scope) -> None:
        if scope.kind != "sqlite":
            return
        scope.observe(self.name, "unencrypted SQLite database (plaintext header): cells decoded and scanned")
        uri = f"file:{urllib.parse.quote(str(scope.path))}?mode=ro&immutable=1"
        try:
            con = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as exc:
            scope.unreadable("sqlite", f"cannot open as SQLite: {exc}")
            return
        batcher = column_batcher(scope, "sqlite")
        try:
            con.execute("PRAGMA trusted_schema=OFF")
            tables = con.execute("SELECT name, sql FROM sqlite_master WHERE type='table'").fetchall()
            for name, sql in tables:
                if str(name).startswith("sqlite_"):
                    continue
                virtual = str(sql or "").lstrip().upper().startswith("CREATE VIRTUAL")
                try:
                    cursor = con.execute(f"SELECT * FROM {_quote(str(name))}")  # noqa: S608 - quoted identifier
                    columns = [f"{name}.{d[0]}" for d in cursor.description]
                    for row in cursor:
                        if not all(batcher.add(c, v) for c, v in zip(columns, row, strict=True)):
                            break
                except sqlite3.Error as exc:
                    if virtual:  # its data lives in shadow tables, which are read as ordinary tables
                        scope.observe(self.name, f"virtual table {name} not readable here ({exc}); shadow tables "
                                      "scanned instead")
                    else:
                        scope.unreadable(f"sqlite:{name}", f"table not readable: {exc}")
                if batcher.capped:
                    break
        except sqlite3.Error as exc:
            scope.unreadable("sqlite", f"cannot read the schema: {exc}")
        finally:
            con.close()
        finish(scope, batcher, "sqlite", self.name)
