"""RocksDB values are sealed, but not bound to their key: the associated data omits the stored key and the name
sealed inside the value is not compared with the key it was read under, so a value moved to another key
opens as if it belonged there."""

from __future__ import annotations

from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.interface import check_key
from aico_secure.stores.rocksdb import RocksDbStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-004",)


class UnboundRocksDbStore(RocksDbStore):
    def _record_context(self, stored_key: bytes) -> bytes:
        return super()._record_context(b"")

    def get(self, key: str) -> bytes | None:
        stored = self._stored_key(check_key(key))
        sealed = self._engine("reading", self._records.get, stored)
        return None if sealed is None else self._unpack(stored, self._open_record(stored, sealed))[1]


def build() -> Target:
    stores = {**reference_stores(), "rocksdb": ReferenceStore("rocksdb", UnboundRocksDbStore)}
    return reference_with("RocksDB values not bound to their keys", stores=stores)
