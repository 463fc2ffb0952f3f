"""SQLite files as the inspector reads them: sniffed by header, opened read-only and immutable with the real
engine, every table's cells read (by ``SELECT`` or, for files over ``cell_stream_bytes``, through blob handles).

No ``-wal`` file is written next to the database: the detector opens it ``immutable``, so SQLite never reads
a WAL, and a WAL is scanned raw like any other file (the ``inspect_text`` and ``inspect_compressed`` harnesses
cover raw scanning).
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.fuzz._harness._inspect import CANARIES, KEY, VECTOR, InspectorHarness, reference_store_files
from aico_secure.inspector._detector.sqlite import MAGIC

SEED_LIMIT = 256 << 10


class InspectSqliteHarness(InspectorHarness):
    name = "inspect_sqlite"
    surface = "a SQLite (or SQLCipher) database file in a scanned directory: the sqlite detector and the engine"
    max_len = SEED_LIMIT
    dictionary = (
        MAGIC, b"CREATE TABLE", b"CREATE VIRTUAL TABLE", b"WITHOUT ROWID", b"USING fts5", b"sqlite_master",
        b"sqlite_sequence", b"INTEGER PRIMARY KEY", b"BLOB", b"TEXT", b"table", b"index", b"\x0d", b"\x05", b"\x0a",
        b"\x02", b"\x10\x00", b"\x01\x01", b"\x00\x40\x20\x20", b"\x00\x00\x00\x01", b"\xff\xff\xff\xff",
    )

    def layout(self, data: bytes) -> dict[str, bytes]:
        return {"store.db": data}

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        for store in ("libsql", "chroma"):  # SQLCipher (no plaintext header) and Chroma's plaintext SQLite
            for path, content in reference_store_files(store).items():
                if len(content) <= SEED_LIMIT and (content.startswith(MAGIC) or path.endswith(".db")):
                    yield f"reference-{store}-{Path(path).name}", content
        yield from _plain_databases()


def _plain_databases() -> Iterator[tuple[str, bytes]]:
    """Plaintext databases from the engine: text, blobs spilling onto overflow pages (read both by ``SELECT``
    and, over ``cell_stream_bytes``, through blob handles), a WITHOUT ROWID table, an index, an FTS5 table."""
    prose = f"{CANARIES[0]} the note of my sister {CANARIES[1]}"
    embedding = b"".join(float(v).hex().encode() for v in VECTOR)
    for name, big in (("small", 1), ("overflow", 40)):
        with tempfile.TemporaryDirectory(prefix="aico-fuzz-sqlite-") as scratch:
            path = Path(scratch) / "seed.db"
            con = sqlite3.connect(path)
            try:
                con.executescript("CREATE TABLE notes(id INTEGER PRIMARY KEY, note TEXT, raw BLOB, n REAL);"
                                  "CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;"
                                  "CREATE INDEX notes_note ON notes(note);")
                con.executemany("INSERT INTO notes(note, raw, n) VALUES (?, ?, ?)",
                                [(f"{i} {prose}" * big, KEY + embedding * big, i / 3) for i in range(8)])
                con.execute("INSERT INTO kv VALUES (?, ?)", (CANARIES[0], KEY))
                if name == "small":
                    con.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
                    con.execute("INSERT INTO docs VALUES (?)", (prose,))
                con.commit()
            finally:
                con.close()
            content = path.read_bytes()
            if len(content) <= SEED_LIMIT:
                yield f"sqlite-{name}", content


HARNESS = InspectSqliteHarness()
