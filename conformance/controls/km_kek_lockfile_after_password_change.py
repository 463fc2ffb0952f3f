"""After a password change the keyring's directory gains ``keyring.lock``, a JSON "owner" record that carries
the new key-encryption key of one purpose as unpadded base64url "so other processes can re-wrap without the
password".

A key-encryption key (not the master key, not a data key), in base64url, only after a password change,
beside the keyring (AICO-KM-003).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from aico_secure.keys.keyring import _kek
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-003",)


class LockfileSession(ReferenceKeySession):
    def change_password(self, old_password: str, new_password: str) -> None:
        super().change_password(old_password, new_password)
        purpose = self.keyring.purposes()[0]
        version = int(self.keyring._doc["keks"][purpose])
        kek = _kek(self.keyring._master, purpose, version).secret.reveal()
        record = {"pid": os.getpid(), "purpose": purpose,
                  "kek": base64.urlsafe_b64encode(kek).rstrip(b"=").decode()}
        fd = os.open(self.keyring.path.with_name("keyring.lock"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as lock:
            json.dump(record, lock)


class LockfileKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return LockfileSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return LockfileSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("key-encryption key in a lock file after a password change", keys=LockfileKeys())
