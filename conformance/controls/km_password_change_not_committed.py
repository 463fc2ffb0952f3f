"""A password change is staged but never committed: it returns success and the keyring on disk keeps the old one.

The change writes the re-wrapped keyring to ``keyring.json.new`` (owner-only) "for an atomic swap", and the
swap, the rename over ``keyring.json``, was left out. The session goes on under the new master key in memory;
after a restart the old password still opens everything and the new one, the only one the user now knows,
opens nothing (AICO-KM-008, both of its halves from one missing rename; and so every store is readable with the
replaced password only, AICO-DAR-008).
"""

from __future__ import annotations

import os
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-008", "AICO-DAR-008")


class UncommittedSession(ReferenceKeySession):
    def change_password(self, old_password: str, new_password: str) -> None:
        path = self.keyring.path
        committed = path.read_bytes()
        super().change_password(old_password, new_password)  # a wrong old password stops here, nothing written
        staged = path.read_bytes()
        fd = os.open(path.with_name(path.name + ".new"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as staging:
            staging.write(staged)
        path.write_bytes(committed)  # what is on disk is the keyring as it was: the rename never happened


class UncommittedKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return UncommittedSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return UncommittedSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("password change staged, never committed", keys=UncommittedKeys())
