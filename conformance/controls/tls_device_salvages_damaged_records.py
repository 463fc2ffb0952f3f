"""A sync device whose record file no longer parses "salvages" it: every ``"key": "value"`` pair that still
looks whole is kept and the rest is dropped without a word, so a damaged file opens as a shorter store."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.errors import SyncError
from aico_secure.transport.sync import SyncDevice
from aico_secure.transport.sync.records import RecordFile

from ._base import reference_with

BREAKS = ("AICO-DAR-005",)
PAIR = re.compile(rb'"([\x21-\x7e]{1,256}?)": "([A-Za-z0-9+/=]+)"')


class SalvagingRecordFile(RecordFile):
    def __init__(self, directory: Path) -> None:
        try:
            super().__init__(directory)
        except SyncError:
            self._records = {}
            for key, value in PAIR.findall(self._path.read_bytes()):
                try:
                    self._records[key.decode("ascii")] = base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    continue


class SalvagingDevice(SyncDevice):
    record_file_class = SalvagingRecordFile


class SalvagingTls(ReferenceTls):
    device_class = SalvagingDevice


def build() -> Target:
    return reference_with("sync device salvages a damaged record file", tls=SalvagingTls())
