"""While a session is open its data keys sit in ``/dev/shm/aico-<uid>-<pid>/keys`` ("tmpfs, never on disk"),
removed at close; the build ignores ``$TMPDIR`` and writes to that fixed path.

A write outside both the directory it was given and the user's private directories: the suite reports the
write itself, and scans the file (kept before its removal) for the data keys (AICO-KM-003).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-003",)


class ShmSession(ReferenceKeySession):
    def __init__(self, keyring: UnlockedKeyring) -> None:
        super().__init__(keyring)
        self._dir = Path("/dev/shm") / f"aico-{os.getuid()}-{os.getpid()}-{id(self):x}"

    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        sealed = super().seal(purpose, record_key, plaintext)
        self._dir.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(self._dir / "keys", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            for name in self.keyring.purposes():
                for key in self.keyring.data_keys(name):
                    out.write(key.key_id + key.secret.reveal())
        return sealed

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)
        super().close()


class ShmKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return ShmSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return ShmSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("session keys in /dev/shm", keys=ShmKeys())
