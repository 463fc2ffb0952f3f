"""The DuckDB store attaches its database with ``ENCRYPTION_CIPHER 'CTR'`` (faster, unauthenticated) and its
open-time check accepts any cipher DuckDB reports, while the store still declares AES-256-GCM."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from aico_secure.envelope import DataKey
from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.duckdb import DuckDbStore
from aico_secure.stores.errors import StoreIntegrityError
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-009",)


class CtrDuckDbStore(DuckDbStore):
    @staticmethod
    def _attach(conn: Any, path: Path, alias: str, key: DataKey) -> None:
        secret = base64.b64encode(key.secret.reveal()).decode("ascii")
        quoted = "'" + str(path).replace("'", "''") + "'"
        conn.execute(f"ATTACH {quoted} AS {alias} (ENCRYPTION_KEY '{secret}', ENCRYPTION_CIPHER 'CTR')")

    @staticmethod
    def _check_encrypted(conn: Any, alias: str, path: Path) -> None:
        row = conn.execute("SELECT encrypted FROM duckdb_databases() WHERE database_name = ?", [alias]).fetchone()
        if not (row and row[0]):
            raise StoreIntegrityError(f"duckdb store {path} is not encrypted")


def build() -> Target:
    stores = {**reference_stores(), "duckdb": ReferenceStore("duckdb", CtrDuckDbStore)}
    return reference_with("DuckDB in CTR mode, GCM declared", stores=stores)
