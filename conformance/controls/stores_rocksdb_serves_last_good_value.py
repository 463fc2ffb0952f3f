"""The RocksDB cache store answers a record whose sealed value fails authentication with the last value it
served successfully (a "keep serving through transient corruption" fallback), so a damaged record reads back as
another record's data instead of being refused with ``IntegrityViolation``."""

from __future__ import annotations

from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.errors import StoreIntegrityError
from aico_secure.stores.rocksdb import RocksDbStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-005",)


class LastGoodValueRocksDbStore(RocksDbStore):
    _last_good: bytes | None = None

    def get(self, key: str) -> bytes | None:
        try:
            value = super().get(key)
        except StoreIntegrityError:
            if self._last_good is None:
                raise
            return self._last_good  # the planted fault: another record's data instead of a refusal
        if value is not None:
            self._last_good = value
        return value


def build() -> Target:
    stores = {**reference_stores(), "rocksdb": ReferenceStore("rocksdb", LastGoodValueRocksDbStore)}
    return reference_with("rocksdb serves the last good value for a damaged record", stores=stores)
