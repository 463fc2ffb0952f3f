"""libSQL primary storage on SQLCipher 4, keyed with a raw 256-bit data key from the hierarchy.

Why a raw key (``PRAGMA key = "x'<64 hex>'"``) and not a passphrase: the key already comes from Argon2id and
a wrapped random data key; SQLCipher's PBKDF2 on top would cost time and add nothing. Why check
``cipher_settings`` and the file's first bytes on every open: a build could silently run without the codec
(a plain sqlite3 library, or a key pragma that never ran), and labels would still say "encrypted".

Settings: WAL journal (its frames are encrypted pages like the main file), ``synchronous=NORMAL`` (durable
against a process crash, see interface), ``secure_delete=ON`` (freed pages are zeroed), ``temp_store=MEMORY``
(no temporary files on disk at all). Deletion is made final by ``VACUUM`` plus a truncating checkpoint.

Page cache: ``CACHE_KIB`` of decrypted pages (SQLite's default is 2 MiB, SQLCipher's 8 MiB). A plaintext
SQLite file re-reads an evicted page from the OS cache almost for free; SQLCipher must decrypt it and check
its HMAC again: once a store outgrew the cache, point reads ran at ~0.7 and full scans at ~0.33 of the same
library without a key (docs/performance.md). Pages are decrypted only as they enter the cache, so a cache that
holds the working set takes decryption off the read path; it grows only as far as the store does, and is
freed on close.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Literal, NoReturn, Self

import sqlcipher3

from aico_secure.audit.events import AuditSink
from aico_secure.envelope import DataKey
from aico_secure.keys import UnlockedKeyring
from aico_secure.stores.audit import StoreAudit
from aico_secure.stores.datakeys import keys_to_try
from aico_secure.stores.errors import StoreError, StoreIntegrityError
from aico_secure.stores.files import fsync_rename
from aico_secure.stores.interface import RecordStore, check_key, check_value

FILENAME = "libsql.db"
CREATING = ".libsql.db.creating"
STORE_KIND = "libsql"
FORMAT_VERSION = "1"
PLAINTEXT_SQLITE_HEADER = b"SQLite format 3\x00"
# What the file must really use; checked on every open (SQLCipher 4 is always AES-256-CBC per page).
REQUIRED_SETTINGS = {"cipher_use_hmac": "1", "cipher_plaintext_header_size": "0"}
ALLOWED_HMAC = {"HMAC_SHA256", "HMAC_SHA512"}
ALLOWED_PAGE_SIZES = {4096, 8192, 16384, 32768, 65536}
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
CACHE_KIB = 32 << 10  # page cache per connection (see the module docstring)


def _key_pragma(key: DataKey) -> str:
    return f"PRAGMA key = \"x'{key.secret.reveal().hex()}'\""


def _rekey_pragma(key: DataKey) -> str:
    return f"PRAGMA rekey = \"x'{key.secret.reveal().hex()}'\""


def _is_corruption(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in _CORRUPT_CODES
    text = str(exc)
    return "not a database" in text or "malformed" in text


def _raise_mapped(exc: BaseException, path: Path, doing: str) -> NoReturn:
    """Engine error -> typed store error. The message names the file and the operation, nothing else."""
    if _is_corruption(exc):
        raise StoreIntegrityError(f"libsql store {path} failed authentication while {doing} "
                                  "(wrong key, damaged, truncated or not a libsql store)") from None
    raise StoreError(f"libsql store {path}: engine error while {doing} ({type(exc).__name__})") from None


def _cipher_settings(conn: Any) -> dict[str, str]:
    settings = {}
    for (line,) in conn.execute("PRAGMA cipher_settings").fetchall():
        name, _, value = str(line).removeprefix("PRAGMA ").rstrip(";").partition(" = ")
        settings[name.strip()] = value.strip()
    return settings


def verify_cipher(conn: Any, path: Path) -> dict[str, str]:
    """Refuse a connection whose file is not really SQLCipher-encrypted with an authenticated page format."""
    version = str(conn.execute("PRAGMA cipher_version").fetchone()[0])
    if not version.startswith("4."):
        raise StoreError(f"libsql store needs SQLCipher 4.x, the linked library reports {version!r}")
    settings = _cipher_settings(conn)
    for name, wanted in REQUIRED_SETTINGS.items():
        if settings.get(name) != wanted:
            raise StoreIntegrityError(f"libsql store {path}: cipher setting {name} is {settings.get(name)!r}, "
                                      f"need {wanted!r}")
    if settings.get("cipher_hmac_algorithm") not in ALLOWED_HMAC:
        raise StoreIntegrityError(f"libsql store {path}: per-page HMAC algorithm is not SHA-256/512")
    if int(settings.get("cipher_page_size", "0")) not in ALLOWED_PAGE_SIZES:
        raise StoreIntegrityError(f"libsql store {path}: unexpected cipher page size")
    if path.exists():
        with path.open("rb") as fh:
            if fh.read(len(PLAINTEXT_SQLITE_HEADER)) == PLAINTEXT_SQLITE_HEADER:
                raise StoreIntegrityError(f"libsql store {path} is a plaintext SQLite file")
    return settings


class SqlCipherStore(RecordStore):
    """One SQLCipher database file, ``libsql.db``, in the store directory."""

    purpose = "libsql"
    # What the files are (SQLCipher 4's defaults, which ``verify_cipher`` holds every connection to); the
    # reference adapter hands it to the suite, which checks it against the bytes.
    FORMAT: dict[str, Any] = {"engine": "sqlcipher", "cipher": "AES-256", "mode": "CBC", "mac": "HMAC-SHA512",
                              "page_size": 4096}

    def __init__(self, conn: Any, path: Path, key: DataKey, keyring: UnlockedKeyring, audit: StoreAudit) -> None:
        self._conn = conn
        self._path = path
        self._key = key
        self._keyring = keyring
        self._audit = audit

    def __repr__(self) -> str:
        return f"SqlCipherStore(path={str(self._path)!r}, key_id={self._key.key_id.hex()})"

    # ---- opening -------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, keyring: UnlockedKeyring, directory: Path, *, audit: AuditSink | None = None) -> Self:
        directory = Path(directory)
        path = directory / FILENAME
        log = StoreAudit(audit, STORE_KIND)
        if path.exists():
            if path.stat().st_size == 0:
                log.crypto("open", result="failure")
                raise StoreIntegrityError(f"libsql store {path} is empty (truncated)")
            for key in keys_to_try(keyring, cls.purpose):
                conn = cls._try_key(path, key)
                if conn is not None:
                    log.crypto("open", key_id=key.key_id.hex())
                    return cls(conn, path, key, keyring, log)
            log.crypto("open", result="failure")
            raise StoreIntegrityError(f"libsql store {path} does not open with any libsql data key of this keyring "
                                      "(wrong keyring, damaged, truncated or not a libsql store)")
        directory.mkdir(parents=True, exist_ok=True)
        foreign = [p.name for p in directory.iterdir() if not p.name.startswith(CREATING)]
        if foreign:
            raise StoreIntegrityError(f"{directory} holds files but no {FILENAME}: not a libsql store, or damaged")
        key = keyring.active_data_key(cls.purpose)
        cls._create(directory, key)
        conn = cls._try_key(path, key)
        if conn is None:
            raise StoreIntegrityError(f"libsql store {path} does not open right after creation")
        log.crypto("create", key_id=key.key_id.hex())
        log.crypto("open", key_id=key.key_id.hex())
        return cls(conn, path, key, keyring, log)

    @classmethod
    def _create(cls, directory: Path, key: DataKey) -> None:
        """Build the empty database under a temporary name and rename it into place once complete, so a crash
        during creation leaves either no store (leftovers are cleared on the next open) or a whole one."""
        for leftover in directory.glob(CREATING + "*"):
            leftover.unlink()
        staging = directory / CREATING
        conn = cls._connect(staging, key)
        try:
            conn.execute("BEGIN")
            conn.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [("store", STORE_KIND), ("format", FORMAT_VERSION)])
            conn.execute("CREATE TABLE records (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")
            conn.execute("COMMIT")
            cls._verify(conn, staging)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        for suffix in ("-wal", "-shm"):
            Path(str(staging) + suffix).unlink(missing_ok=True)
        fsync_rename(staging, directory / FILENAME)

    @staticmethod
    def _codec_statements(key: DataKey) -> list[str]:
        """What turns the codec on for a connection; the first statement on it."""
        return [_key_pragma(key)]

    @staticmethod
    def _verify(conn: Any, path: Path) -> None:
        verify_cipher(conn, path)

    @classmethod
    def _connect(cls, path: Path, key: DataKey) -> Any:
        conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")  # engine logs name pages, never keys, but stay quiet
            for statement in cls._codec_statements(key):
                conn.execute(statement)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
                raise StoreError(f"libsql store {path}: WAL mode refused")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        except BaseException:
            conn.close()
            raise
        return conn

    @classmethod
    def _try_key(cls, path: Path, key: DataKey) -> Any | None:
        """A verified connection with ``key``, or None when the file does not authenticate under it."""
        try:
            conn = cls._connect(path, key)
        except sqlcipher3.DatabaseError as exc:
            if _is_corruption(exc):
                return None
            _raise_mapped(exc, path, "opening")
        try:
            cls._verify(conn, path)
            rows = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        except sqlcipher3.DatabaseError as exc:
            conn.close()
            if _is_corruption(exc) or "no such table" in str(exc):
                return None
            _raise_mapped(exc, path, "opening")
        except BaseException:
            conn.close()
            raise
        if rows.get("store") != STORE_KIND:
            conn.close()
            raise StoreIntegrityError(f"{path} opens but belongs to another store ({rows.get('store')!r})")
        return conn

    # ---- records -------------------------------------------------------------------------------------------
    def _run(self, doing: str, sql: str, params: tuple[Any, ...] = (), *, fetch: Literal["one", "all"] | None = None,
             ) -> Any:
        """Execute and fetch inside one error mapping: SQLite reads pages lazily, so a damaged page surfaces
        while rows are fetched, not when the statement starts, and must still become a typed store error."""
        self._check_open()
        try:
            cursor = self._conn.execute(sql, params)
            if fetch == "one":
                return cursor.fetchone()
            return cursor.fetchall() if fetch == "all" else cursor
        except sqlcipher3.DatabaseError as exc:
            _raise_mapped(exc, self._path, doing)
        except MemoryError:
            # SQLCipher reports a page that fails its HMAC, read lazily after open, as SQLITE_NOMEM.
            raise StoreIntegrityError(f"libsql store {self._path} failed authentication while {doing} "
                                      "(a damaged page)") from None

    def put(self, key: str, value: bytes) -> None:
        self._run("writing", "INSERT INTO records (key, value) VALUES (?, ?) "
                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (check_key(key), check_value(value)))
        self._audit.access("write")

    def put_many(self, items: list[tuple[str, bytes]]) -> None:
        """Write many records in one transaction (the benchmark's and bulk loaders' path)."""
        rows = [(check_key(k), check_value(v)) for k, v in items]
        self._check_open()
        try:
            with self._conn:
                self._conn.execute("BEGIN")
                self._conn.executemany("INSERT INTO records (key, value) VALUES (?, ?) "
                                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", rows)
        except sqlcipher3.DatabaseError as exc:
            _raise_mapped(exc, self._path, "writing")
        self._audit.access("write", count=len(rows))

    def get(self, key: str) -> bytes | None:
        row = self._run("reading", "SELECT value FROM records WHERE key = ?", (check_key(key),), fetch="one")
        self._audit.access("read")
        return None if row is None else bytes(row[0])

    def delete(self, key: str) -> None:
        self._run("deleting", "DELETE FROM records WHERE key = ?", (check_key(key),))
        self._audit.access("delete")

    def keys(self) -> list[str]:
        rows = self._run("listing", "SELECT key FROM records ORDER BY key", fetch="all")
        self._audit.access("list", count=len(rows))
        return [str(r[0]) for r in rows]

    # ---- maintenance ---------------------------------------------------------------------------------------
    def integrity_check(self) -> list[str]:
        """SQLCipher's page-by-page HMAC check; empty when every page authenticates."""
        self._run("checkpointing", "PRAGMA wal_checkpoint(TRUNCATE)")
        return [str(r[0]) for r in self._run("checking integrity", "PRAGMA cipher_integrity_check",
                                                          fetch="all")]

    def compact(self) -> None:
        self._run("vacuuming", "VACUUM")
        self._run("checkpointing", "PRAGMA wal_checkpoint(TRUNCATE)")
        self._audit.crypto("compact", key_id=self.data_key_id)

    def rotate_data_key(self) -> None:
        """New data key in the keyring (saved first), then ``PRAGMA rekey`` rewrites every page in one
        transaction. A crash in between leaves the file under the old key, which the keyring still holds."""
        self._check_open()
        new_key = self._keyring.rotate_dek(self.purpose)
        for statement in self._rekey_statements(new_key):
            self._run("rekeying", statement)
        self._key = new_key
        self._run("checkpointing", "PRAGMA wal_checkpoint(TRUNCATE)")
        problems = self.integrity_check()
        if problems:
            raise StoreIntegrityError(f"libsql store {self._path} fails its integrity check after rekey")
        self._audit.crypto("rotate_dek", key_id=self.data_key_id)

    @staticmethod
    def _rekey_statements(key: DataKey) -> list[str]:
        return [_rekey_pragma(key)]

    @property
    def data_key_id(self) -> str:
        return self._key.key_id.hex()

    @property
    def path(self) -> Path:
        return self._path

    def cipher_settings(self) -> dict[str, str]:
        self._check_open()
        return _cipher_settings(self._conn)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(sqlcipher3.DatabaseError):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()
