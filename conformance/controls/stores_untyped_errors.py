"""The libSQL store lets the engine's own exceptions escape: a damaged or foreign file surfaces as
``sqlcipher3.DatabaseError`` instead of the contract's ``IntegrityViolation``, so callers cannot tell an
attack from a bug."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aico_secure.envelope import DataKey
from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.sqlcipher import SqlCipherStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-005",)


class RawErrorSqlCipherStore(SqlCipherStore):
    @classmethod
    def _try_key(cls, path: Path, key: DataKey) -> Any | None:
        conn = cls._connect(path, key)  # sqlcipher3.DatabaseError escapes as it is
        cls._verify(conn, path)
        conn.execute("SELECT name, value FROM meta").fetchall()
        return conn


def build() -> Target:
    stores = {**reference_stores(), "libsql": ReferenceStore("libsql", RawErrorSqlCipherStore)}
    return reference_with("libSQL engine errors escape untyped", stores=stores)
