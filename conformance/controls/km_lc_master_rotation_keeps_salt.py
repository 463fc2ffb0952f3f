"""Master rotation re-derives the master key from the password with the salt already in the keyring: the data
keys are re-wrapped (new nonces, a new file) under what is in fact the same master key."""

from __future__ import annotations

from pathlib import Path

from aico_secure.errors import WrongPasswordError
from aico_secure.keys import keyring_file as kf
from aico_secure.keys.keyring import _kdf_from, _password_bytes, _verifier
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.sensitive import SecretBytes
from aico_secure.target import RejectedCredentials, Target

from ._base import reference_with

BREAKS = ("AICO-KM-006",)


class SameSaltSession(ReferenceKeySession):
    def rotate_master(self, password: str) -> None:
        keyring = self.keyring
        with keyring._changing():
            params, salt = _kdf_from(keyring._doc)
            master = SecretBytes(params.derive(_password_bytes(password), salt))
            if _verifier(master) != _verifier(keyring._master):
                raise RejectedCredentials(str(WrongPasswordError("wrong current password")))
            keyring._doc["verifier"] = kf.b64e(_verifier(master))
            keyring._rewrap(master, list(keyring._doc["deks"]))
            keyring._master = master
            keyring._save()


class SameSaltKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return SameSaltSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return SameSaltSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("master rotation keeps the old salt", keys=SameSaltKeys())
