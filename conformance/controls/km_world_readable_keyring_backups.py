"""Every master-key rotation saves a copy of the new keyring to ``$XDG_DATA_HOME/aico/backups/`` with default
modes (directory 0755, file 0644).

No secret is exposed in the clear: the copy is as sealed as the keyring. But a keyring file readable by every
user lets any of them attack the password offline (AICO-KM-010), and only a master rotation writes it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-010",)


class BackupSession(ReferenceKeySession):
    def rotate_master(self, password: str) -> None:
        super().rotate_master(password)
        backups = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "aico" / "backups"
        backups.mkdir(parents=True, exist_ok=True)
        copy = backups / f"keyring-{time.time_ns()}.json"
        shutil.copyfile(self.keyring.path, copy)
        os.chmod(copy, 0o644)
        os.chmod(backups, 0o755)


class BackupKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return BackupSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return BackupSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("keyring backups readable by everyone", keys=BackupKeys())
