"""libSQL replaces SQLCipher's page HMACs with a whole-file seal kept only in memory: trusted after a restart.

HMACs are turned off "for speed"; at close the store records the file's SHA-256 under the database's salt, and
at open it refuses a file whose digest is none of those sealed. The seals live in memory, with the keyring
session that wrote them. While the instance that wrote the file is alive (across closes and reopens) damage is
refused. A fresh instance (after a restart) has no seal, opens the file as it is, and AES-CBC without a MAC
turns a flipped bit into garbled or altered records that read back silently wrong (AICO-DAR-005 after a
restart only).
"""

from __future__ import annotations

import hashlib
import weakref
from pathlib import Path
from typing import Any, Self

from aico_secure.audit.events import AuditSink
from aico_secure.envelope import DataKey
from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.errors import StoreIntegrityError
from aico_secure.stores.sqlcipher import FILENAME, SqlCipherStore, _key_pragma
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-005",)

SALT_BYTES = 16
_SEALS: weakref.WeakKeyDictionary[UnlockedKeyring, dict[bytes, set[bytes]]] = weakref.WeakKeyDictionary()


class MemorySealedSqlCipherStore(SqlCipherStore):
    @staticmethod
    def _codec_statements(key: DataKey) -> list[str]:
        return [_key_pragma(key), "PRAGMA cipher_use_hmac = OFF"]

    @staticmethod
    def _verify(conn: Any, path: Path) -> None:
        """The whole-file seal replaces the page HMACs the reference insists on."""

    def integrity_check(self) -> list[str]:
        """No page HMACs to check: the seal written at close stands in for them."""
        return []

    @classmethod
    def open(cls, keyring: UnlockedKeyring, directory: Path, *, audit: AuditSink | None = None) -> Self:
        path = Path(directory) / FILENAME
        if path.exists() and path.stat().st_size > SALT_BYTES:
            data = path.read_bytes()
            sealed = _SEALS.get(keyring, {}).get(data[:SALT_BYTES])
            if sealed is not None and hashlib.sha256(data).digest() not in sealed:
                raise StoreIntegrityError(f"libsql store {path} changed since it was sealed")
        return super().open(keyring, directory, audit=audit)

    def close(self) -> None:
        was_open = not self._closed
        super().close()
        if was_open and self._path.exists():
            data = self._path.read_bytes()
            _SEALS.setdefault(self._keyring, {}).setdefault(data[:SALT_BYTES], set()).add(
                hashlib.sha256(data).digest())


def build() -> Target:
    stores = {**reference_stores(), "libsql": ReferenceStore("libsql", MemorySealedSqlCipherStore)}
    return reference_with("libSQL integrity sealed in memory only", stores=stores)
