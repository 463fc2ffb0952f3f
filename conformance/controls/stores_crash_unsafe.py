"""The RocksDB cache writes with the write-ahead log disabled: a put returns once it is in the memtable, so a
process killed before the next flush loses records it had acknowledged."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import rocksdict

from aico_secure.audit.events import AuditSink
from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.rocksdb import RocksDbStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-007",)


class NoWalRocksDbStore(RocksDbStore):
    @classmethod
    def open(cls, keyring: UnlockedKeyring, directory: Path, *, audit: AuditSink | None = None,
             blind_names: bool = True, **_: Any) -> Self:
        store = super().open(keyring, directory, audit=audit, blind_names=blind_names)
        options = rocksdict.WriteOptions()
        options.disable_wal = True  # type: ignore[method-assign,assignment]  # a property in rocksdict
        store._records.set_write_options(options)
        return store


def build() -> Target:
    stores = {**reference_stores(), "rocksdb": ReferenceStore("rocksdb", NoWalRocksDbStore)}
    return reference_with("RocksDB writes without a WAL", stores=stores)
