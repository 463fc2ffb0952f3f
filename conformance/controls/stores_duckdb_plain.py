"""The DuckDB store attaches its database without ``ENCRYPTION_KEY``: file, WAL and spill files are plaintext,
and the store does not ask DuckDB whether the attached file is encrypted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aico_secure.envelope import DataKey
from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.duckdb import DuckDbStore, attach
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-003", "AICO-DAR-005")


class PlainDuckDbStore(DuckDbStore):
    @staticmethod
    def _attach(conn: Any, path: Path, alias: str, key: DataKey) -> None:
        attach(conn, path, alias, None)

    @staticmethod
    def _check_encrypted(conn: Any, alias: str, path: Path) -> None:
        return None


def build() -> Target:
    stores = {**reference_stores(), "duckdb": ReferenceStore("duckdb", PlainDuckDbStore)}
    return reference_with("DuckDB store without database encryption", stores=stores)
