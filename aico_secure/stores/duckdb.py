"""DuckDB analytics storage under DuckDB's own AES-GCM database encryption.

Why DuckDB's encryption and not our envelope: analytics needs the engine to scan and aggregate columns, which
it can only do on data it can decrypt itself; DuckDB 1.4+ encrypts every block of the file, its WAL, and (with
``temp_file_encryption``) the temporary files it spills to, with AES-GCM. We hand it the raw 256-bit data key
(base64, which DuckDB decodes before its own key derivation) and load the ``httpfs`` extension so it encrypts
with OpenSSL; ``force_mbedtls_unsafe`` is never set, and checked off on every connection.

Spill files live in ``<store>/tmp`` so they are inside the directory the inspector scans. ``compact`` and
``rotate_data_key`` both rebuild the database into a fresh file (``COPY FROM DATABASE``) and rename it into
place: DuckDB has no in-place re-key, and a rebuild is also what makes deleted rows leave the disk.
"""

from __future__ import annotations

import base64
import contextlib
import shutil
from pathlib import Path
from typing import Any, NoReturn, Self

import duckdb
import duckdb_extensions

from aico_secure.audit.events import AuditSink
from aico_secure.envelope import DataKey
from aico_secure.keys import UnlockedKeyring
from aico_secure.stores.audit import StoreAudit
from aico_secure.stores.datakeys import keys_to_try
from aico_secure.stores.errors import StoreError, StoreIntegrityError
from aico_secure.stores.files import fsync_path, fsync_rename
from aico_secure.stores.interface import RecordStore, check_key, check_value

FILENAME = "analytics.duckdb"
WAL_SUFFIX = ".wal"
CREATING = ".analytics.duckdb.creating"
REBUILDING = ".analytics.duckdb.rebuild"
TEMP_DIR = "tmp"
STORE_KIND = "duckdb"
FORMAT_VERSION = "1"
ALIAS = "store"  # the attached database's name; SQL below spells it out as "store."
_INTEGRITY_MARKERS = ("wrong encryption key", "aes tag", "not a valid duckdb", "could not read enough bytes",
                      "checksum", "corrupt", "serialization", "unsupported", "invalid database", "magic bytes",
                      "encrypt")


def _key_text(key: DataKey) -> str:
    return base64.b64encode(key.secret.reveal()).decode("ascii")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _looks_like_damage(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _INTEGRITY_MARKERS) and not _is_lock_conflict(exc)


def _is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


def _raise_mapped(exc: BaseException, path: Path, doing: str) -> NoReturn:
    """Engine error -> typed store error; DuckDB's text is never passed on (a parser error can echo SQL)."""
    if _looks_like_damage(exc):
        raise StoreIntegrityError(f"duckdb store {path} failed authentication while {doing} "
                                  "(wrong key, damaged, truncated or not a duckdb store)") from None
    raise StoreError(f"duckdb store {path}: engine error while {doing} ({type(exc).__name__})") from None


def connect(temp_dir: Path, *, memory_limit: str | None = None, encrypt_temp: bool = True) -> Any:
    """An in-memory DuckDB instance that spills, encrypted, into ``temp_dir`` and never fetches anything."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "temp_directory": str(temp_dir),
        "temp_file_encryption": "true" if encrypt_temp else "false",
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
    }
    if memory_limit:
        config["memory_limit"] = memory_limit
    conn = duckdb.connect(":memory:", config=config)
    try:
        try:
            conn.execute("LOAD httpfs")
        except duckdb.Error:
            duckdb_extensions.import_extension("httpfs", con=conn)  # installs the wheel's local copy, no network
            conn.execute("LOAD httpfs")
        row = conn.execute("SELECT current_setting('force_mbedtls_unsafe')").fetchone()
        if row is None or str(row[0]).lower() != "false":
            raise StoreError("duckdb: force_mbedtls_unsafe is on; refusing to use the mbedtls fallback")
    except BaseException:
        conn.close()
        raise
    return conn


def attach(conn: Any, path: Path, alias: str, key: DataKey | None) -> None:
    """Attach ``path`` encrypted under ``key`` (``None`` only for the benchmark's plaintext baseline)."""
    options = f" (ENCRYPTION_KEY {_quote(_key_text(key))}, ENCRYPTION_CIPHER 'GCM')" if key is not None else ""
    conn.execute(f"ATTACH {_quote(str(path))} AS {alias}{options}")


def is_encrypted(conn: Any, alias: str) -> bool:
    row = conn.execute("SELECT encrypted, cipher FROM duckdb_databases() WHERE database_name = ?", [alias]).fetchone()
    return bool(row and row[0] and str(row[1]).upper() == "GCM")


class DuckDbStore(RecordStore):
    """``analytics.duckdb`` (+ ``.wal``) and a ``tmp`` spill directory in the store directory."""

    purpose = "duckdb"
    # What the files are: DuckDB's AES-256-GCM database encryption in its default 256 KiB blocks.
    FORMAT: dict[str, Any] = {"engine": "duckdb", "cipher": "AES-256", "mode": "GCM", "mac": None, "page_size": 262144}

    def __init__(self, conn: Any, directory: Path, key: DataKey, keyring: UnlockedKeyring, audit: StoreAudit,
                 memory_limit: str | None) -> None:
        self._conn = conn
        self._directory = directory
        self._path = directory / FILENAME
        self._key = key
        self._keyring = keyring
        self._audit = audit
        self._memory_limit = memory_limit

    def __repr__(self) -> str:
        return f"DuckDbStore(path={str(self._path)!r}, key_id={self._key.key_id.hex()})"

    # ---- opening -------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, keyring: UnlockedKeyring, directory: Path, *, audit: AuditSink | None = None,
             memory_limit: str | None = None) -> Self:
        directory = Path(directory)
        path = directory / FILENAME
        log = StoreAudit(audit, STORE_KIND)
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            foreign = [p.name for p in directory.iterdir() if p.name not in (TEMP_DIR,)
                       and not p.name.startswith((CREATING, REBUILDING))]
            if foreign:
                raise StoreIntegrityError(f"{directory} holds files but no {FILENAME}: not a duckdb store, or damaged")
        elif path.stat().st_size == 0:
            raise StoreIntegrityError(f"duckdb store {path} is empty (truncated)")
        (directory / TEMP_DIR).mkdir(exist_ok=True)
        conn = connect(directory / TEMP_DIR, memory_limit=memory_limit)  # one instance: loading httpfs is slow
        try:
            if not path.exists():
                key = keyring.active_data_key(cls.purpose)
                cls._create(conn, directory, key)
                log.crypto("create", key_id=key.key_id.hex())
            for leftover in directory.glob(REBUILDING + "*"):
                leftover.unlink()  # an interrupted rebuild: the main file is still the authoritative one
            for key in keys_to_try(keyring, cls.purpose):
                if cls._try_key(conn, path, key):
                    log.crypto("open", key_id=key.key_id.hex())
                    return cls(conn, directory, key, keyring, log, memory_limit)
        except BaseException:
            conn.close()
            raise
        conn.close()
        log.crypto("open", result="failure")
        raise StoreIntegrityError(f"duckdb store {path} does not open with any duckdb data key of this keyring "
                                  "(wrong keyring, damaged, truncated or not a duckdb store)")

    @classmethod
    def _create(cls, conn: Any, directory: Path, key: DataKey) -> None:
        """Build the empty database under a temporary name, then rename it into place: a crash during creation
        leaves either no store (leftovers are cleared on the next open) or a whole one."""
        for leftover in directory.glob(CREATING + "*"):
            leftover.unlink()
        staging = directory / CREATING
        cls._attach(conn, staging, ALIAS, key)
        cls._check_encrypted(conn, ALIAS, staging)
        conn.execute("CREATE TABLE store.meta (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
        conn.execute("INSERT INTO store.meta VALUES ('store', ?), ('format', ?)", [STORE_KIND, FORMAT_VERSION])
        conn.execute("CREATE TABLE store.records (key VARCHAR PRIMARY KEY, value BLOB NOT NULL)")
        conn.execute("DETACH store")
        if Path(str(staging) + WAL_SUFFIX).exists():
            raise StoreError("duckdb left a WAL behind after detaching the new database")
        fsync_rename(staging, directory / FILENAME)

    @classmethod
    def _try_key(cls, conn: Any, path: Path, key: DataKey) -> bool:
        """Attach ``path`` under ``key``; False when the file does not authenticate under it (nothing written)."""
        try:
            cls._attach(conn, path, ALIAS, key)
        except duckdb.Error as exc:
            if _is_lock_conflict(exc):
                raise StoreError(f"duckdb store {path} is locked by another process") from None
            return False
        try:
            cls._check_encrypted(conn, ALIAS, path)
            rows = dict(conn.execute("SELECT name, value FROM store.meta").fetchall())
            conn.execute("SELECT count(*) FROM store.records").fetchone()
        except duckdb.Error as exc:
            _raise_mapped(exc, path, "opening")
        if rows.get("store") != STORE_KIND:
            raise StoreIntegrityError(f"{path} opens but belongs to another store ({rows.get('store')!r})")
        return True

    @staticmethod
    def _attach(conn: Any, path: Path, alias: str, key: DataKey) -> None:
        attach(conn, path, alias, key)

    @staticmethod
    def _check_encrypted(conn: Any, alias: str, path: Path) -> None:
        """Trust what DuckDB reports about the attached file, not our own ATTACH statement."""
        if not is_encrypted(conn, alias):
            raise StoreIntegrityError(f"duckdb store {path} is not encrypted with AES-GCM")

    # ---- records -------------------------------------------------------------------------------------------
    def _run(self, doing: str, sql: str, params: list[Any] | None = None) -> Any:
        self._check_open()
        try:
            return self._conn.execute(sql, params or [])
        except duckdb.Error as exc:
            _raise_mapped(exc, self._path, doing)

    def put(self, key: str, value: bytes) -> None:
        self._run("writing", "INSERT OR REPLACE INTO store.records VALUES (?, ?)",
                  [check_key(key), check_value(value)])
        self._audit.access("write")

    def put_many(self, items: list[tuple[str, bytes]]) -> None:
        """Write many records in one transaction."""
        rows = [[check_key(k), check_value(v)] for k, v in items]
        self._check_open()
        try:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR REPLACE INTO store.records VALUES (?, ?)", rows)
            self._conn.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                self._conn.execute("ROLLBACK")
            _raise_mapped(exc, self._path, "writing")
        self._audit.access("write", count=len(rows))

    def get(self, key: str) -> bytes | None:
        row = self._run("reading", "SELECT value FROM store.records WHERE key = ?", [check_key(key)]).fetchone()
        self._audit.access("read")
        return None if row is None else bytes(row[0])

    def delete(self, key: str) -> None:
        self._run("deleting", "DELETE FROM store.records WHERE key = ?", [check_key(key)])
        self._audit.access("delete")

    def keys(self) -> list[str]:
        rows = self._run("listing", "SELECT key FROM store.records ORDER BY key").fetchall()
        self._audit.access("list", count=len(rows))
        return [str(r[0]) for r in rows]

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run an analytics query against the store (tables are in schema ``store``)."""
        rows: list[tuple[Any, ...]] = self._run("querying", query, params).fetchall()
        self._audit.access("query", count=len(rows))
        return rows

    # ---- maintenance ---------------------------------------------------------------------------------------
    def _rebuild(self, key: DataKey) -> None:
        """Copy every live row into a fresh file encrypted under ``key`` and rename it into place.

        Crash safety: until the rename the old file (under a key the keyring holds) is authoritative and the
        staging file is discarded on the next open; after it, the new file is. The old file's WAL is
        checkpointed away before the rename so it can never be replayed onto the new file.
        """
        staging = self._directory / REBUILDING
        for leftover in self._directory.glob(REBUILDING + "*"):
            leftover.unlink()
        try:
            self._attach(self._conn, staging, "rebuilt", key)
            self._conn.execute("COPY FROM DATABASE store TO rebuilt")
            self._conn.execute("DETACH rebuilt")
            self._conn.execute("DETACH store")
        except duckdb.Error as exc:
            _raise_mapped(exc, self._path, "rebuilding")
        try:
            if Path(str(staging) + WAL_SUFFIX).exists() or Path(str(self._path) + WAL_SUFFIX).exists():
                raise StoreError(f"duckdb store {self._path}: WAL left behind after checkpoint; rebuild aborted")
            fsync_rename(staging, self._path)
            shutil.rmtree(self._directory / TEMP_DIR, ignore_errors=True)
            (self._directory / TEMP_DIR).mkdir(exist_ok=True)
            fsync_path(self._directory)
            self._attach(self._conn, self._path, ALIAS, key)
        except BaseException as exc:
            self._closed = True  # the store is detached: the caller must reopen it
            self._conn.close()
            if isinstance(exc, duckdb.Error):
                _raise_mapped(exc, self._path, "reopening after a rebuild")
            raise
        self._key = key

    def compact(self) -> None:
        """Rebuild under the purpose's active key: only live rows reach the new file; the old one is gone."""
        self._check_open()
        self._rebuild(self._keyring.active_data_key(self.purpose))
        self._audit.crypto("compact", key_id=self.data_key_id)

    def rotate_data_key(self) -> None:
        self._check_open()
        self._rebuild(self._keyring.rotate_dek(self.purpose))
        self._audit.crypto("rotate_dek", key_id=self.data_key_id)

    @property
    def data_key_id(self) -> str:
        return self._key.key_id.hex()

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(duckdb.Error):
                self._conn.execute("DETACH store")
            self._conn.close()
