"""Unencrypted SQLite databases (``SQLite format 3`` header; SQLCipher encrypts the header too).

A plaintext SQLite file is not a finding by itself: a vector store may keep its bookkeeping in SQLite while
sealing every document. What matters is what the cells hold, so the database is opened read-only and
immutable with the real engine (never written, WAL ignored: the WAL file is scanned raw like any file), and
every cell of every table is scanned decoded (a value split across overflow pages is whole again). Columns
holding prose are reported as a readable plaintext container (medium). Files larger than
``Limits.cell_stream_bytes`` are read cell by cell through blob handles, so a huge cell never sits in memory.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import Iterator

from aico_secure.inspector._detector._tables import column_batcher, finish
from aico_secure.inspector._detector._values import ColumnBatcher
from aico_secure.inspector.interface import Detector, Scope
from aico_secure.inspector.report import one_line  # SQLite quotes names from the file, line breaks included

MAGIC = b"SQLite format 3\x00"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# sqlite3 decodes SQLite's own error messages as strict UTF-8; a message quoting a name from a hostile file
# (a malformed schema) then raises UnicodeDecodeError instead of sqlite3.Error.
_ENGINE_ERRORS = (sqlite3.Error, UnicodeDecodeError)


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
        except _ENGINE_ERRORS as exc:
            scope.unreadable("sqlite", f"cannot open as SQLite: {one_line(str(exc))}")
            return
        # Text in a hostile file need not be UTF-8 (table names included): kept byte for byte, never a decode error.
        con.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
        # SQLite stores values uncompressed: decoding a file yields about its own size, whatever the cap.
        batcher = column_batcher(scope, "sqlite", cap=max(scope.limits.decode_cap, scope.size + (1 << 20)))
        by_cell = scope.size > scope.limits.cell_stream_bytes
        try:
            con.execute("PRAGMA trusted_schema=OFF")
            tables = con.execute("SELECT name, sql FROM sqlite_master WHERE type='table'").fetchall()
            for name, sql in tables:
                if str(name).startswith("sqlite_"):
                    continue
                text = str(sql or "").lstrip().upper()
                virtual = text.startswith("CREATE VIRTUAL")
                try:
                    if by_cell and not virtual and "WITHOUT ROWID" not in text:
                        _stream_cells(scope, con, str(name), batcher)
                    else:
                        cursor = con.execute(f"SELECT * FROM {_quote(str(name))}")  # noqa: S608 - quoted identifier
                        columns = [f"{name}.{d[0]}" for d in cursor.description]
                        for row in cursor:
                            if not all(batcher.add(c, v) for c, v in zip(columns, row, strict=True)):
                                break
                except _ENGINE_ERRORS as exc:
                    if virtual:  # its data lives in shadow tables, which are read as ordinary tables
                        scope.observe(self.name, f"virtual table {name} not readable here ({exc}); shadow tables "
                                      "scanned instead")
                    else:
                        scope.unreadable(f"sqlite:{name}", f"table not readable: {one_line(str(exc))}")
                if batcher.capped:
                    break
        except _ENGINE_ERRORS as exc:
            scope.unreadable("sqlite", f"cannot read the schema: {one_line(str(exc))}")
        finally:
            con.close()
        finish(scope, batcher, "sqlite", self.name)


def _stream_cells(scope: Scope, con: sqlite3.Connection, table: str, batcher: ColumnBatcher) -> None:
    """Every text and blob cell of a rowid table, read through a blob handle in ``decode_chunk`` pieces.

    ``SELECT`` would hand each value over whole (SQLite loads the whole overflow chain, Python copies it): a
    400 MiB cell would cost about twice that in memory. ``typeof()`` needs no content, and a blob handle reads
    the cell's bytes (text in the database encoding) a piece at a time, so memory stays at one piece. Small
    cells still go through the batcher, so their per-column grouping and the prose check are unchanged.
    """
    columns = [str(row[1]) for row in con.execute(f"PRAGMA table_info({_quote(table)})")]
    if not columns:
        return
    kinds = ", ".join(f"typeof({_quote(c)})" for c in columns)
    cursor = con.execute(f"SELECT rowid, {kinds} FROM {_quote(table)}")  # noqa: S608 - quoted identifiers
    chunk = scope.limits.decode_chunk
    for rowid, *types in cursor:
        for column, kind in zip(columns, types, strict=True):
            if kind not in ("text", "blob"):
                continue
            with con.blobopen(table, column, rowid, readonly=True) as blob:
                size = len(blob)
                if size <= chunk:
                    data = blob.read()
                    value: object = data.decode("utf-8", "surrogateescape") if kind == "text" else data
                    if not batcher.add(f"{table}.{column}", value):
                        return
                    continue
                if not batcher.reserve(size):
                    return
                scope.scan_decoded(_pieces(blob, chunk), container=f"sqlite:{table}.{column}", origin=0)


def _pieces(blob: sqlite3.Blob, chunk: int) -> Iterator[bytes]:
    while piece := blob.read(chunk):
        yield piece
