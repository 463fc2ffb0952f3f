"""Unlock fills a SQLite "session cache" in ``$XDG_DATA_HOME/aico/session-cache.db`` with every data key (as
BLOBs) so stores opened later skip unwrapping; close() is meant to clear it but only closes the connection.

SQLite writes its pages from native code (no Python ``open``), inside a database container, and the cache
outlives close (AICO-KM-003).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-003",)


class SqliteCachedSession(ReferenceKeySession):
    def __init__(self, keyring: UnlockedKeyring) -> None:
        super().__init__(keyring)
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "aico"
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._db = sqlite3.connect(base / "session-cache.db")
        self._db.execute("CREATE TABLE IF NOT EXISTS deks (purpose TEXT, id TEXT PRIMARY KEY, secret BLOB)")
        self._fill()

    def _fill(self) -> None:
        with self._db:
            for purpose in self.keyring.purposes():
                for key in self.keyring.data_keys(purpose):
                    self._db.execute("INSERT OR REPLACE INTO deks VALUES (?, ?, ?)",
                                     (purpose, key.key_id.hex(), key.secret.reveal()))

    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        sealed = super().seal(purpose, record_key, plaintext)
        self._fill()  # a data key created on first use joins the cache
        return sealed

    def close(self) -> None:
        self._db.close()
        super().close()


class SqliteCachedKeys(ReferenceKeys):
    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return SqliteCachedSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("data keys in a SQLite session cache that outlives close", keys=SqliteCachedKeys())
