"""DuckDB deletes are batched in an open transaction that only the next write, compaction or rotation commits:
reads on the same connection see the record gone, but closing the store rolls the delete back."""

from __future__ import annotations

from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.duckdb import DuckDbStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-006",)


class LazyDeleteDuckDbStore(DuckDbStore):
    _pending = False

    def _commit_pending(self) -> None:
        if self._pending:
            self._pending = False
            self._run("committing", "COMMIT")

    def delete(self, key: str) -> None:
        if not self._pending:
            self._run("deleting", "BEGIN TRANSACTION")
            self._pending = True
        super().delete(key)

    def put(self, key: str, value: bytes) -> None:
        self._commit_pending()
        super().put(key, value)

    def compact(self) -> None:
        self._commit_pending()
        super().compact()

    def rotate_data_key(self) -> None:
        self._commit_pending()
        super().rotate_data_key()

    def close(self) -> None:
        if self._pending and not self._closed:
            self._pending = False
            self._run("closing", "ROLLBACK")
        super().close()


def build() -> Target:
    stores = {**reference_stores(), "duckdb": ReferenceStore("duckdb", LazyDeleteDuckDbStore)}
    return reference_with("DuckDB deletes undone by reopening", stores=stores)
