"""The libSQL store turns SQLCipher's per-page HMAC off (``PRAGMA cipher_use_hmac = OFF``, for write speed) and
its settings check no longer asks for it, while the store still declares AES-256-CBC with HMAC-SHA512 pages.

Pages are no longer authenticated (AICO-DAR-001 asks for SQLCipher's per-page HMAC) and the declaration is false
(AICO-DAR-009)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aico_secure.envelope import DataKey
from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.errors import StoreError
from aico_secure.stores.sqlcipher import PLAINTEXT_SQLITE_HEADER, SqlCipherStore, _key_pragma
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-001", "AICO-DAR-009")


class NoHmacSqlCipherStore(SqlCipherStore):
    @staticmethod
    def _codec_statements(key: DataKey) -> list[str]:
        return [_key_pragma(key), "PRAGMA cipher_use_hmac = OFF"]

    @staticmethod
    def _verify(conn: Any, path: Path) -> None:
        version = str(conn.execute("PRAGMA cipher_version").fetchone()[0])
        if not version.startswith("4."):
            raise StoreError(f"libsql store needs SQLCipher 4.x, the linked library reports {version!r}")
        if path.exists() and path.read_bytes()[:len(PLAINTEXT_SQLITE_HEADER)] == PLAINTEXT_SQLITE_HEADER:
            raise StoreError(f"libsql store {path} is a plaintext SQLite file")


def build() -> Target:
    stores = {**reference_stores(), "libsql": ReferenceStore("libsql", NoHmacSqlCipherStore)}
    return reference_with("SQLCipher without per-page HMAC, HMAC declared", stores=stores)
