"""The RocksDB store appends every value it is given to a debug dump ``$TMPDIR/aico-debug/rocksdb-<pid>.dump``
(left in while chasing a compaction bug).

The store's own files stay encrypted and nothing is written to the data directory: the plaintext records are
only in a temp directory outside it, found by scanning every file the build wrote (AICO-SEC-001).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.reference.stores import ReferenceRecordStore, ReferenceStore, ReferenceVectorStore, reference_stores
from aico_secure.target import KeySession, Target

from ._base import reference_with

BREAKS = ("AICO-SEC-001",)


class DumpingRecordStore(ReferenceRecordStore):
    def put(self, key: str, value: bytes) -> None:
        dump = Path(tempfile.gettempdir()) / "aico-debug"
        dump.mkdir(mode=0o700, exist_ok=True)
        with (dump / f"rocksdb-{os.getpid()}.dump").open("ab") as out:
            out.write(key.encode() + b"=" + value + b"\n")
        super().put(key, value)


class DumpingStore(ReferenceStore):
    def open(self, session: KeySession, directory: Path, *, audit: AuditSink | None = None,
             ) -> ReferenceRecordStore | ReferenceVectorStore:
        opened = super().open(session, directory, audit=audit)
        assert isinstance(opened, ReferenceRecordStore)
        return DumpingRecordStore(opened.impl)


def build() -> Target:
    stores = {**reference_stores(), "rocksdb": DumpingStore("rocksdb")}
    return reference_with("store values dumped to a temp file", stores=stores)
