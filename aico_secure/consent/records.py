"""A small sealed record store for the consent service when the build wires no database store to it.

The whole map is one envelope-sealed document (purpose ``records``), replaced atomically on every change:
simple and crash-safe, and meant for the modest amount of data a test or a single-user default holds. Builds
with a real store (the reference's SQLCipher/libSQL store) pass that to ``DataAccess`` instead.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from aico_secure.consent.errors import ConsentError, ConsentStateCorrupt
from aico_secure.keys.atomic import atomic_write
from aico_secure.target.errors import IntegrityViolation
from aico_secure.target.keys import KeySession

PURPOSE = "records"
RECORD = b"consent-records/v1"
MAX_BYTES = 64 << 20


class SealedRecordFile:
    def __init__(self, session: KeySession, path: Path) -> None:
        self._session = session
        self.path = Path(path)
        self._records: dict[str, bytes] | None = self._load() if self.path.exists() else {}

    def __repr__(self) -> str:
        return f"SealedRecordFile({str(self.path)!r})"

    def _load(self) -> dict[str, bytes]:
        with self.path.open("rb") as fh:
            sealed = fh.read(MAX_BYTES + 1)
        try:
            if len(sealed) > MAX_BYTES:
                raise ValueError("too large")
            document = json.loads(self._session.open(PURPOSE, RECORD, base64.b64decode(sealed, validate=True)))
            return {str(k): base64.b64decode(v, validate=True) for k, v in document.items()}
        except (ValueError, TypeError, AttributeError, RecursionError, IntegrityViolation):  # Recursion: deep JSON
            raise ConsentStateCorrupt(f"the record file {self.path} does not authenticate or is malformed") from None

    def _save(self) -> None:
        document = {k: base64.b64encode(v).decode() for k, v in sorted(self._open_records().items())}
        sealed = self._session.seal(PURPOSE, RECORD, json.dumps(document).encode())
        atomic_write(self.path, base64.b64encode(sealed))

    def _open_records(self) -> dict[str, bytes]:
        if self._records is None:
            raise ConsentError(f"the record file {self.path} is closed")
        return self._records

    def put(self, key: str, value: bytes) -> None:
        self._open_records()[key] = bytes(value)
        self._save()

    def get(self, key: str) -> bytes | None:
        return self._open_records().get(key)

    def delete(self, key: str) -> None:
        if self._open_records().pop(key, None) is not None:
            self._save()

    def keys(self) -> list[str]:
        return sorted(self._open_records())

    def close(self) -> None:
        self._records = None  # a closed file must refuse writes, not save an empty map over the data
