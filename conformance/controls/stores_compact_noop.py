"""DuckDB's ``compact`` does nothing: deleted rows are gone from query results but stay in the database file's
blocks, encrypted under a key the keyring keeps, so anyone who later obtains the key can read them."""

from __future__ import annotations

from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.duckdb import DuckDbStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-006",)


class LazyDuckDbStore(DuckDbStore):
    def compact(self) -> None:
        self._check_open()


def build() -> Target:
    stores = {**reference_stores(), "duckdb": ReferenceStore("duckdb", LazyDuckDbStore)}
    return reference_with("DuckDB compaction is a no-op", stores=stores)
