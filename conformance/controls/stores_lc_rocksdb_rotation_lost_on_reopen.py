"""RocksDB seals new values under the data key recorded when the store was created, except right after a
``rotate_data_key`` on the same open instance: once the store is reopened, writes go back to the first key."""

from __future__ import annotations

from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.rocksdb import RocksDbStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-008",)


class ForgetfulRotationRocksDbStore(RocksDbStore):
    _rotated = False

    def rotate_data_key(self) -> None:
        super().rotate_data_key()
        self._rotated = True

    def _seal_records(self, records: list[tuple[bytes, bytes]]) -> list[bytes]:
        if self._rotated:
            return super()._seal_records(records)
        first = self._keyring.data_key(self.purpose, self._names_key_id)
        assert first is not None
        sealer = self._sealers.sealer(first)
        return sealer.seal_many([(payload, self._record_context(stored)) for stored, payload in records])


def build() -> Target:
    stores = {**reference_stores(), "rocksdb": ReferenceStore("rocksdb", ForgetfulRotationRocksDbStore)}
    return reference_with("RocksDB rotation forgotten on reopen", stores=stores)
