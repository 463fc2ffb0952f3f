"""The libSQL store lets the engine's own exceptions escape: a damaged page surfaces as
``sqlcipher3.DatabaseError`` instead of the contract's ``IntegrityViolation``, so callers cannot tell an
attack from a bug."""

from __future__ import annotations

from typing import Any, NoReturn

import sqlcipher3

from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.sqlcipher import SqlCipherStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-005",)


class RawErrorSqlCipherStore(SqlCipherStore):
    def _run(self, doing: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
        self._check_open()
        try:
            return self._conn.execute(sql, params)
        except sqlcipher3.DatabaseError as exc:
            _reraise(exc)


def _reraise(exc: BaseException) -> NoReturn:
    raise exc


def build() -> Target:
    stores = {**reference_stores(), "libsql": ReferenceStore("libsql", RawErrorSqlCipherStore)}
    return reference_with("libSQL engine errors escape untyped", stores=stores)
