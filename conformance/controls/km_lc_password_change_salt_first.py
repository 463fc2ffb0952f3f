"""A password change writes the new KDF salt before the re-wrapped keyring: killed between, neither password opens.

The salt is persisted first ("so a crash can never reuse a salt"), then the KDF runs on the new password and
the re-wrapped keyring is written. Each write is atomic, the change as a whole is not. A change that completes
leaves exactly what the reference leaves; a process killed between the two writes leaves a keyring whose salt
belongs to the new password and whose verifier to the old one (AICO-KM-008 at the crash point only; every
store's data is lost with it).
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path

from aico_secure.keys import keyring_file as kf
from aico_secure.keys.keyring import _kdf_from, _password_bytes, _verifier
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.sensitive import SecretBytes
from aico_secure.target import RejectedCredentials, Target

from ._base import reference_with

BREAKS = ("AICO-KM-008",)


class SaltFirstSession(ReferenceKeySession):
    def change_password(self, old_password: str, new_password: str) -> None:
        keyring = self.keyring
        with keyring._changing():
            params, salt = _kdf_from(keyring._doc)
            current = SecretBytes(params.derive(_password_bytes(old_password), salt))
            if not hmac.compare_digest(_verifier(current), _verifier(keyring._master)):
                raise RejectedCredentials("wrong current password")
            new_salt = os.urandom(len(salt))
            keyring._doc["kdf"]["salt"] = kf.b64e(new_salt)
            keyring._save()  # the salt is "reserved" on disk before the slow part
            new_master = SecretBytes(params.derive(_password_bytes(new_password), new_salt))
            keyring._doc["verifier"] = kf.b64e(_verifier(new_master))
            keyring._rewrap(new_master, list(keyring._doc["deks"]))
            keyring._master = new_master
            keyring._save()


class SaltFirstKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return SaltFirstSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return SaltFirstSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("password change writes the new salt first", keys=SaltFirstKeys())
