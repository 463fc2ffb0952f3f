"""A session trusts its own copy of the keyring: before every write it takes whatever is on disk for what it
last wrote itself, so a write from a session unlocked before a password change elsewhere puts the keyring back
under the old password (and the old salt)."""

from __future__ import annotations

from pathlib import Path

from aico_secure.keys import keyring_file as kf
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-008",)


class OwnCopySession(ReferenceKeySession):
    def _trust_own_copy(self) -> None:
        self.keyring._raw = kf.read_raw(self.keyring.path)

    def rotate_data_key(self, purpose: str) -> None:
        self._trust_own_copy()
        super().rotate_data_key(purpose)

    def rotate_kek(self, purpose: str) -> None:
        self._trust_own_copy()
        super().rotate_kek(purpose)

    def rotate_master(self, password: str) -> None:
        self._trust_own_copy()
        super().rotate_master(password)

    def change_password(self, old_password: str, new_password: str) -> None:
        self._trust_own_copy()
        super().change_password(old_password, new_password)


class OwnCopyKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return OwnCopySession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return OwnCopySession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("a stale session overwrites a password change", keys=OwnCopyKeys())
