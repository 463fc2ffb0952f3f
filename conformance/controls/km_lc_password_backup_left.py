"""A password change first copies the keyring to ``keyring.json.bak`` ("in case the change fails") and never
removes the copy: the old password still opens it."""

from __future__ import annotations

import shutil
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-008",)


class BackupSession(ReferenceKeySession):
    def change_password(self, old_password: str, new_password: str) -> None:
        path = self.keyring.path
        shutil.copy2(path, path.with_name(path.name + ".bak"))
        super().change_password(old_password, new_password)


class BackupKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return BackupSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return BackupSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("password change leaves an old-password backup", keys=BackupKeys())
