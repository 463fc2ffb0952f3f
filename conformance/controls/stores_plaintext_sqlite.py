"""The libSQL store runs without SQLCipher: no key pragma, so every page (and the WAL) is plaintext SQLite, and
nothing checks the file's real cipher settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aico_secure.envelope import DataKey
from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.sqlcipher import SqlCipherStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-001", "AICO-DAR-005")


class PlaintextSqliteStore(SqlCipherStore):
    @staticmethod
    def _codec_statements(key: DataKey) -> list[str]:
        return []

    @staticmethod
    def _rekey_statements(key: DataKey) -> list[str]:
        return []

    @staticmethod
    def _verify(conn: Any, path: Path) -> None:
        return None


def build() -> Target:
    stores = {**reference_stores(), "libsql": ReferenceStore("libsql", PlaintextSqliteStore)}
    return reference_with("libSQL store without SQLCipher", stores=stores)
