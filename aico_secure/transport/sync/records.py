"""A device's local record file: sealed values only, replaced atomically, so a crash loses no record.

The device never writes a plaintext value: what sits on disk is exactly what crosses the wire, an envelope
that opens only with the user's keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from pathlib import Path

from aico_secure.keys.atomic import atomic_write
from aico_secure.transport.errors import SyncError

FILE_NAME = "records.json"


class RecordFile:
    """Map record key -> sealed value, persisted as one JSON file (mode 0600)."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / FILE_NAME
        self._lock = threading.Lock()
        self._records: dict[str, bytes] = {}
        if self._path.exists():
            try:
                raw = json.loads(self._path.read_text("utf-8"))
                self._records = {str(k): base64.b64decode(v, validate=True) for k, v in raw.items()}
            # TypeError: a value that is not a string; RecursionError: JSON nested too deep.
            except (OSError, ValueError, AttributeError, TypeError, RecursionError, binascii.Error):
                raise SyncError(f"{self._path.name} is damaged") from None

    def _save(self) -> None:
        data = {k: base64.b64encode(v).decode("ascii") for k, v in sorted(self._records.items())}
        atomic_write(self._path, json.dumps(data).encode("utf-8"), mode=0o600)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._records.get(key)

    def items(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return sorted(self._records.items())

    def put_many(self, records: dict[str, bytes]) -> None:
        """All of ``records`` or none of them (one atomic file replacement)."""
        with self._lock:
            merged = {**self._records, **records}
            previous, self._records = self._records, merged
            try:
                self._save()
            except OSError:
                self._records = previous
                raise
