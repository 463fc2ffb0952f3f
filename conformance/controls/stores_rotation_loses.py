"""Rotating the RocksDB data key forgets the old one (retires it from the keyring straight away, unless the store
still derives its name blinding from it) without re-encrypting what it sealed: records written under it
become unreadable.

Besides AICO-DAR-008 this can also trip AICO-DAR-007 when the crash writer completes a RocksDB rotation
before a kill lands; whether it does depends on timing, so only DAR-008 is listed."""

from __future__ import annotations

from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.rocksdb import RocksDbStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-008",)


class ForgetfulRocksDbStore(RocksDbStore):
    def rotate_data_key(self) -> None:
        old = self._keyring.active_data_key(self.purpose)
        self._keyring.rotate_dek(self.purpose)
        if old.key_id != self._names_key_id:  # keep the naming key, or nothing could be looked up at all
            self._keyring.retire_dek(self.purpose, old.key_id)


def build() -> Target:
    stores = {**reference_stores(), "rocksdb": ReferenceStore("rocksdb", ForgetfulRocksDbStore)}
    return reference_with("RocksDB rotation drops the old data key", stores=stores)
