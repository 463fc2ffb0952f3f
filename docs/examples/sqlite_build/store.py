"""The team's records store: stdlib SQLite, each record's name and value sealed per row by the vault.

Why not SQLCipher: stdlib ``sqlite3`` ships everywhere, needs no native build, and its files open with every
SQLite tool for support. The price is that encryption is the application's job:

* ``records(slot, name, body)``: ``slot`` is an HMAC of the record name under a random per-store name key (so
  lookups work without the name being readable), ``name`` the sealed name (bound to its slot), ``body`` the
  sealed value (bound to the name). A value moved to another row does not open.
* ``store_meta``: the format tag, the sealed name key, and a sealed digest of the row set (count and the XOR of
  a keyed MAC of every row), updated in the same transaction as each write. Per-row sealing cannot see a row
  that vanished (a damaged page, a truncated file); the digest, checked at every open, can.
* WAL mode with ``synchronous=FULL``: a write is on disk when ``put`` returns.

Known flaw 3 (see the package docstring): ``compact``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .keys import ENVELOPE_VERSION, HEADER_BYTES, KEY_ID_BYTES, VaultError, VaultSession

PURPOSE = "libsql"
DB_FILE = "records.sqlite3"
FORMAT = b"sqlite-build-records/1"
NAME_KEY_ROW = "name-key"
DIGEST_ROW = "digest"
SCHEMA = (
    "CREATE TABLE store_meta (item TEXT PRIMARY KEY, body BLOB NOT NULL)",
    "CREATE TABLE records (slot BLOB PRIMARY KEY, name BLOB NOT NULL, body BLOB NOT NULL) WITHOUT ROWID",
)
FORENSIC_WINDOW = 1 << 16
# What ``sqlite3`` raises for a damaged file: its errors, and UnicodeDecodeError when the engine's message quotes
# raw bytes of a damaged schema (the module decodes every message as UTF-8).
SQLITE_FAILURES = (sqlite3.Error, UnicodeDecodeError)
SEPARATOR = b"\n--\n"


class StoreError(Exception):
    """Base of the store's errors; messages never carry record names, values or keys."""


class DamagedStore(StoreError):
    """The files are not a store of this build, do not open with this keyring, or were damaged."""


def _subkey(key: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"sqlite-build/v1/records/{label}".encode()).derive(key)


class RecordsDb:
    """One open store. Every method raises ``DamagedStore`` (or the vault's ``VaultError``) for bytes that do not
    authenticate; anything ``sqlite3`` says about the file is damage too."""

    def __init__(self, session: VaultSession, conn: sqlite3.Connection, name_key: bytes) -> None:
        self._session = session
        self._conn = conn
        self._slot_key = _subkey(name_key, "slot")
        self._digest_key = _subkey(name_key, "digest")

    def __repr__(self) -> str:
        return "RecordsDb(libsql)"

    # ---- opening -----------------------------------------------------------------------------------------
    @classmethod
    def open(cls, session: VaultSession, directory: Path) -> RecordsDb:
        directory = Path(directory)
        db = directory / DB_FILE
        if not db.exists():
            if directory.is_dir() and any(directory.iterdir()):
                raise DamagedStore("the directory holds files, but not this build's store")
            return cls._create(session, directory)
        try:
            conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True, isolation_level=None)
        except SQLITE_FAILURES:
            raise DamagedStore("the store's database does not open") from None
        try:
            cls._tune(conn)
            store = cls(session, conn, cls._read_header(session, conn))
            store._verify_rows()
            return store
        except SQLITE_FAILURES:
            conn.close()
            raise DamagedStore("the store's database is damaged or not this build's") from None
        except BaseException:
            conn.close()
            raise

    @classmethod
    def _create(cls, session: VaultSession, directory: Path) -> RecordsDb:
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(directory / DB_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            raise DamagedStore(f"cannot create the store: {exc.strerror or type(exc).__name__}") from None
        conn = sqlite3.connect(directory / DB_FILE, isolation_level=None)
        try:
            # A full VACUUM rewrites the whole primary store; incremental vacuum hands freed pages back cheaply.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("PRAGMA journal_mode = WAL")
            cls._tune(conn)
            name_key = os.urandom(32)
            with cls._transaction(conn):
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute("INSERT INTO store_meta VALUES ('format', ?)", (FORMAT,))
                conn.execute("INSERT INTO store_meta VALUES (?, ?)",
                             (NAME_KEY_ROW, session.seal(PURPOSE, b"meta\x00name-key", name_key)))
                conn.execute("INSERT INTO store_meta VALUES (?, ?)",
                             (DIGEST_ROW, session.seal(PURPOSE, b"meta\x00digest", bytes(40))))
            return cls(session, conn, name_key)
        except SQLITE_FAILURES:
            conn.close()
            raise DamagedStore("the store's database could not be created") from None
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _tune(conn: sqlite3.Connection) -> None:
        """Per-connection settings, pinned so the store behaves the same whichever way SQLite was compiled:
        upstream leaves ``secure_delete`` off, some distributions turn it on, and zeroing every freed cell
        doubles the cost of a delete (``compact`` gives the space back)."""
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA secure_delete = OFF")

    @staticmethod
    def _read_header(session: VaultSession, conn: sqlite3.Connection) -> bytes:
        try:
            rows = dict(conn.execute("SELECT item, body FROM store_meta").fetchall())
        except SQLITE_FAILURES:
            raise DamagedStore("the store's database is damaged or not this build's") from None
        if rows.get("format") != FORMAT or NAME_KEY_ROW not in rows:
            raise DamagedStore("not a store of this build")
        try:
            return session.open(PURPOSE, b"meta\x00name-key", rows[NAME_KEY_ROW])
        except VaultError:
            raise DamagedStore("the store does not open with this keyring") from None

    def _verify_rows(self) -> None:
        """The row set is the one the last write sealed: nothing vanished, nothing was added."""
        count, folded = 0, bytes(32)
        for slot, name, body in self._rows("SELECT slot, name, body FROM records"):
            count += 1
            folded = _xor(folded, self._row_mac(slot, name, body))
        if (count, folded) != self._digest():
            raise DamagedStore("the store's rows do not match its sealed digest")

    # ---- helpers -----------------------------------------------------------------------------------------
    @staticmethod
    @contextlib.contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(*SQLITE_FAILURES):  # an error may already have ended the transaction
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _rows(self, sql: str, *args: object) -> list[tuple[bytes, ...]]:
        try:
            return self._conn.execute(sql, args).fetchall()
        except SQLITE_FAILURES:
            raise DamagedStore("the store's database is damaged") from None

    def _slot(self, name: str) -> bytes:
        return hmac.digest(self._slot_key, name.encode("utf-8"), "sha256")

    def _row_mac(self, slot: bytes, name: bytes, body: bytes) -> bytes:
        material = slot + hashlib.sha256(name).digest() + hashlib.sha256(body).digest()
        return hmac.digest(self._digest_key, material, "sha256")

    def _digest(self) -> tuple[int, bytes]:
        rows = self._rows("SELECT body FROM store_meta WHERE item = ?", DIGEST_ROW)
        if not rows:
            raise DamagedStore("the store's digest is missing")
        try:
            plain = self._session.open(PURPOSE, b"meta\x00digest", rows[0][0])
        except VaultError:
            raise DamagedStore("the store's digest does not authenticate") from None
        if len(plain) != 40:
            raise DamagedStore("the store's digest is malformed")
        return int.from_bytes(plain[:8], "big"), plain[8:]

    def _write(self, slot: bytes, row: tuple[bytes, bytes] | None) -> None:
        """Replace (or with ``None`` remove) the row at ``slot`` and fold the change into the digest, atomically."""
        try:
            with self._transaction(self._conn):
                count, folded = self._digest()
                old = self._rows("SELECT name, body FROM records WHERE slot = ?", slot)
                if old:
                    count, folded = count - 1, _xor(folded, self._row_mac(slot, *old[0]))
                if row is None:
                    self._conn.execute("DELETE FROM records WHERE slot = ?", (slot,))
                else:
                    self._conn.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (slot, *row))
                    count, folded = count + 1, _xor(folded, self._row_mac(slot, *row))
                sealed = self._session.seal(PURPOSE, b"meta\x00digest", count.to_bytes(8, "big") + folded)
                self._conn.execute("UPDATE store_meta SET body = ? WHERE item = ?", (sealed, DIGEST_ROW))
        except SQLITE_FAILURES:
            raise DamagedStore("the store's database refused the write") from None

    # ---- records -----------------------------------------------------------------------------------------
    def put(self, name: str, value: bytes) -> None:
        slot = self._slot(name)
        sealed_name = self._session.seal(PURPOSE, b"name\x00" + slot, name.encode("utf-8"))
        sealed_value = self._session.seal(PURPOSE, b"value\x00" + name.encode("utf-8"), value)
        self._write(slot, (sealed_name, sealed_value))

    def get(self, name: str) -> bytes | None:
        rows = self._rows("SELECT body FROM records WHERE slot = ?", self._slot(name))
        if not rows:
            return None
        return self._session.open(PURPOSE, b"value\x00" + name.encode("utf-8"), rows[0][0])

    def delete(self, name: str) -> None:
        self._write(self._slot(name), None)

    def names(self) -> list[str]:
        found = []
        for slot, sealed in self._rows("SELECT slot, name FROM records"):
            found.append(self._session.open(PURPOSE, b"name\x00" + slot, sealed).decode("utf-8"))
        return found

    def compact(self) -> None:
        try:
            self._conn.execute("PRAGMA incremental_vacuum").fetchall()
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except SQLITE_FAILURES:
            raise DamagedStore("compaction failed") from None

    def rotate_data_key(self) -> None:
        self._session.rotate_data_key(PURPOSE)

    def sealing_key_id(self, name: str) -> str | None:
        rows = self._rows("SELECT body FROM records WHERE slot = ?", self._slot(name))
        return VaultSession.key_id_of(rows[0][0]) if rows else None

    def close(self) -> None:
        self._conn.close()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def recover(session: VaultSession, directory: Path) -> dict[str, bytes]:
    """Every file of a closed store, followed by everything its data keys decrypt in it, without SQLite: each
    sealed envelope found anywhere in the bytes (live rows, freed cells, free pages, WAL frames) is decrypted
    from its nonce on with the GCM keystream, so a record cut short still shows."""
    keys = session.existing_keys(PURPOSE)
    image: dict[str, bytes] = {}
    for path in sorted(Path(directory).rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        recovered = []
        for key_id, key in keys:
            marker = bytes([ENVELOPE_VERSION]) + bytes.fromhex(key_id)
            at = data.find(marker)
            while at >= 0:
                nonce = data[at + 1 + KEY_ID_BYTES:at + HEADER_BYTES]
                body = data[at + HEADER_BYTES:at + HEADER_BYTES + FORENSIC_WINDOW]
                if len(nonce) == 12 and body:
                    counter_block = nonce + (2).to_bytes(4, "big")  # GCM encrypts from inc32(J0) on
                    decryptor = Cipher(algorithms.AES(key), modes.CTR(counter_block)).decryptor()
                    recovered.append(decryptor.update(body) + decryptor.finalize())
                at = data.find(marker, at + 1)
        image[str(path.relative_to(directory))] = data + SEPARATOR + SEPARATOR.join(recovered)
    return image
