"""RocksDB seals new values under the data key recorded when the store was created, except right after a
``rotate_data_key`` on the same open instance: once the store is reopened, writes go back to the first key."""

from __future__ import annotations

from aico_secure import envelope
from aico_secure.envelope import DataKey
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

    def _seal(self, family: str, stored_key: bytes, payload: bytes, key: DataKey | None = None) -> bytes:
        if key is None and not self._rotated:
            key = self._keyring.data_key(self.purpose, self._names_key_id)
        return envelope.seal(key or self._keyring.active_data_key(self.purpose), payload,
                             self._context(family, stored_key))


def build() -> Target:
    stores = {**reference_stores(), "rocksdb": ReferenceStore("rocksdb", ForgetfulRotationRocksDbStore)}
    return reference_with("RocksDB rotation forgotten on reopen", stores=stores)
