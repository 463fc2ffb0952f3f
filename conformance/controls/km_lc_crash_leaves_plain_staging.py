"""Password change and master rotation journal the raw data keys to a file shredded on success: a crash leaves it.

Before re-wrapping, the session writes ``keyring.json.staging`` (owner-only) holding every data key unwrapped
"so an interrupted re-wrap can be finished"; once the new keyring is in place the journal is overwritten with
zeros, flushed and removed. A run that completes leaves no trace: by the time the file is removed its bytes
are zeros, so even a scan of removed files finds nothing. A process killed mid-operation leaves the journal,
raw keys and all: only a scan after a crash finds it (AICO-KM-003).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-003",)


class JournalingSession(ReferenceKeySession):
    def _journaled(self, operation: Callable[[], None]) -> None:
        path = self.keyring.path
        journal = path.with_name(path.name + ".staging")
        keys = {f"{purpose}:{key.key_id.hex()}": key.secret.reveal().hex()
                for purpose in self.keyring.purposes() for key in self.keyring.data_keys(purpose)}
        data = json.dumps({"version": 1, "data_keys": keys}).encode()
        fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        operation()
        with journal.open("r+b") as shred:
            shred.write(b"\0" * len(data))
            shred.flush()
            os.fsync(shred.fileno())
        journal.unlink()

    def change_password(self, old_password: str, new_password: str) -> None:
        self._journaled(lambda: super(JournalingSession, self).change_password(old_password, new_password))

    def rotate_master(self, password: str) -> None:
        self._journaled(lambda: super(JournalingSession, self).rotate_master(password))


class JournalingKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return JournalingSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return JournalingSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("plaintext re-wrap journal left by a crash", keys=JournalingKeys())
