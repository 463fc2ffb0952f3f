"""A sync device's local record file (``records.json``: record key -> sealed value, base64) as found on disk.

The device loads it when it starts, and its values are what it later pushes to peers, so a damaged or edited
file must be refused as ``SyncError`` ("records.json is damaged"), not crash the device on start-up. Values are
not opened here: a device opens a value only when it is read (``SyncDevice.get``), and ``sync_frame`` fuzzes
the sealer already.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.fuzz._harness._fixed_keys import fixed_keyring
from aico_secure.fuzz.interface import Harness
from aico_secure.reference.keys import ReferenceKeySession
from aico_secure.reference.tls import SessionSealer
from aico_secure.transport.errors import SyncError
from aico_secure.transport.sync.records import FILE_NAME, RecordFile


class SyncRecordsHarness(Harness):
    name = "sync_records"
    surface = "a sync device's records.json as found on disk: RecordFile loading"
    refusals = (SyncError,)
    max_len = 16 * 1024
    timeout_s = 5
    rss_limit_mb = 1024
    dictionary = (b'{"', b'": "', b'", "', b'"}', b"==", b"=", b"AAAA", b"null", b"true", b"[]", b"{}", b"1e999",
                  b"\\u0000", b"\\ud800", b"NaN")

    def setup(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="aico-fuzz-sync-records-"))

    def teardown(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def run(self, data: bytes) -> None:
        (self._dir / FILE_NAME).write_bytes(data)
        RecordFile(self._dir).items()

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        sealer = SessionSealer(ReferenceKeySession(fixed_keyring()))
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            store = RecordFile(directory)
            for n, (key, value) in enumerate((("notes/1", b"first note"), ("profile", b'{"name": "a"}'),
                                              ("empty", b""))):
                store.put_many({key: sealer.seal(key.encode(), value)})  # what SyncDevice.put stores
                yield f"records-{n + 1}", (directory / FILE_NAME).read_bytes()


HARNESS = SyncRecordsHarness()
