"""AICO-DAR-005: a record's sealed payload is bound to its id in every store whose engine keeps records in a file
an attacker can edit with the engine's own tools.

Generalises the RocksDB swap (``test_dar_binding``) to any plain SQLite container a store writes (Chroma keeps
its items in one): the suite opens each such file with SQLite itself and, one column at a time, swaps the
values of two rows that hold opaque payloads (64 bytes or more, distinct). Reopened through the contract, every
record must then be refused with ``IntegrityViolation`` or read back exactly as written under its own id; a
payload read back under another record's id is the failure. Stores that keep no plain SQLite file (SQLCipher,
DuckDB and RocksDB encrypt or own their formats) have nothing to swap here and pass trivially, with evidence.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

from aico_secure.target import IntegrityViolation, KeySession, StoreCapability, VectorStore

from ._support import ALL_STORES, Workload, mismatches, open_store, write
from .conftest import per_store

SQLITE_MAGIC = b"SQLite format 3\x00"
MIN_PAYLOAD = 64
MAX_TRIALS = 12


def _sqlite_files(directory: Path) -> list[Path]:
    found = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                if fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
                    found.append(path)
    return found


def _swappable(db: Path) -> Iterator[tuple[str, str]]:
    """(table, column) pairs with at least two rows of distinct opaque payloads."""
    with closing(sqlite3.connect(db)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            try:
                columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
                for column in columns:
                    count = conn.execute(
                        f'SELECT count(DISTINCT "{column}") FROM "{table}" WHERE length("{column}") >= ?',
                        (MIN_PAYLOAD,)).fetchone()[0]
                    if count >= 2:
                        yield table, column
            except sqlite3.DatabaseError:
                continue  # virtual tables (full-text search) the stdlib cannot read


def _row_identity(conn: sqlite3.Connection, table: str) -> list[str]:
    """The columns that name one row: ``rowid``, or the primary key of a ``WITHOUT ROWID`` table."""
    try:
        conn.execute(f'SELECT rowid FROM "{table}" LIMIT 1').fetchall()
        return ["rowid"]
    except sqlite3.OperationalError:
        info = sorted((r[5], r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")') if r[5])
        return [f'"{name}"' for _position, name in info]


def _swap(db: Path, table: str, column: str) -> bool:
    with closing(sqlite3.connect(db)) as conn:
        identity = _row_identity(conn, table)
        if not identity:
            return False
        names = ", ".join(identity)
        rows = conn.execute(f'SELECT "{column}", {names} FROM "{table}" WHERE length("{column}") >= ? '
                            f'ORDER BY {names} LIMIT 2', (MIN_PAYLOAD,)).fetchall()
        if len(rows) < 2 or rows[0][0] == rows[1][0]:
            return False
        (value_a, *a), (value_b, *b) = rows
        where = " AND ".join(f"{name} = ?" for name in identity)
        try:
            conn.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE {where}', (value_b, *a))
            conn.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE {where}', (value_a, *b))
            conn.commit()
        except sqlite3.DatabaseError:
            return False  # a constraint of the engine's schema forbids it: not a swap an attacker gets for free
    return True


def _wrong_reads(store: StoreCapability, session: KeySession, directory: Path, workload: Workload) -> list[str]:
    """Records read back as something other than what was written under their id (refusals are fine)."""
    try:
        opened = open_store(store, session, directory)
    except IntegrityViolation:
        return []
    wrong = []
    try:
        if isinstance(opened, VectorStore):
            for item_id, (_embedding, document, metadata) in workload.items.items():
                try:
                    got = opened.get(item_id)
                except IntegrityViolation:
                    continue
                if got is not None and (got[0] != document or dict(got[1]) != metadata):
                    wrong.append(item_id)
        else:
            for key, value in workload.records.items():
                try:
                    got_value = opened.get(key)
                except IntegrityViolation:
                    continue
                if got_value is not None and got_value != value:
                    wrong.append(key)
    finally:
        opened.close()
    return wrong


@per_store("AICO-DAR-005", stores=ALL_STORES)
def test_payloads_swapped_in_a_sqlite_container_are_not_read_under_the_wrong_id(
        store: StoreCapability, store_dir: Path, tmp_path: Path, key_session: KeySession,
        evidence: Callable[[str, object], None]) -> None:
    opened = open_store(store, key_session, store_dir)
    try:
        workload = write(opened, Workload(), count=6, tag="b")
    finally:
        opened.close()
    trials = 0
    for db in _sqlite_files(store_dir):
        relative = db.relative_to(store_dir)
        for table, column in list(_swappable(db))[:MAX_TRIALS]:
            copy = tmp_path / f"swap-{trials}"
            shutil.copytree(store_dir, copy)
            if not _swap(copy / relative, table, column):
                shutil.rmtree(copy)
                continue
            trials += 1
            wrong = _wrong_reads(store, key_session, copy, workload)
            assert not wrong, (f"after swapping two values of {relative}:{table}.{column}, records read back another "
                               f"record's content: {wrong[:3]}")
            shutil.rmtree(copy)
    reopened = open_store(store, key_session, store_dir)
    try:
        assert not mismatches(reopened, workload), "the untouched store no longer reads back"
    finally:
        reopened.close()
    evidence("plain SQLite containers", len(_sqlite_files(store_dir)))
    evidence("swap trials", trials)
