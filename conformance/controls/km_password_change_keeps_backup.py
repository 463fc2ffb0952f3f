"""A password change keeps the keyring as it was to ``keyring.json.bak`` "for rollback" (owner-only, like the
original) and never removes the copy.

The backup holds no plain key: every data key in it is wrapped, but under the master key of the OLD password,
so whoever knows the old password opens everything with it (AICO-KM-008).
"""

from __future__ import annotations

import os
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-008",)


class BackupSession(ReferenceKeySession):
    def change_password(self, old_password: str, new_password: str) -> None:
        path = self.keyring.path
        before = path.read_bytes()
        super().change_password(old_password, new_password)  # a wrong old password stops here, nothing written
        fd = os.open(path.with_name(path.name + ".bak"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as backup:
            backup.write(before)


class BackupKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return BackupSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return BackupSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("old-password keyring backup left behind", keys=BackupKeys())
