"""A key change on a keyring whose files have gone (directory moved, volume unmounted) "heals" it: the build
recreates the directory and writes the keyring it holds in memory back in place, then rotates. The user now
has two diverging keyrings, and the one in the old place is the one the build keeps changing."""

from __future__ import annotations

import os
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-009",)


class RestoringSession(ReferenceKeySession):
    def _restore(self) -> None:
        path = Path(self.keyring.path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(self.keyring._raw)

    def rotate_data_key(self, purpose: str) -> None:
        self._restore()
        super().rotate_data_key(purpose)

    def rotate_kek(self, purpose: str) -> None:
        self._restore()
        super().rotate_kek(purpose)

    def rotate_master(self, password: str) -> None:
        self._restore()
        super().rotate_master(password)

    def change_password(self, old_password: str, new_password: str) -> None:
        self._restore()
        super().change_password(old_password, new_password)


class RestoringKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> RestoringSession:
        return RestoringSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> RestoringSession:
        return RestoringSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("vanished keyring restored from memory on the next change", keys=RestoringKeys())
