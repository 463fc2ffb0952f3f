"""A password change keeps the previous keyring as ``keyring.prev`` for a "rollback", and unlock falls back to it
when the current keyring refuses the password. The instance that made the change remembers it and refuses the
old password; any later instance (after a restart) accepts it again."""

from __future__ import annotations

import shutil
from pathlib import Path

from aico_secure.errors import WrongPasswordError
from aico_secure.keys import Keyring
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import RejectedCredentials, Target

from ._base import reference_with

BREAKS = ("AICO-KM-008",)
PREVIOUS = "keyring.prev"


class RollbackSession(ReferenceKeySession):
    def __init__(self, keyring: object, owner: RollbackKeys) -> None:
        super().__init__(keyring)  # type: ignore[arg-type]
        self.owner = owner

    def change_password(self, old_password: str, new_password: str) -> None:
        path = self.keyring.path
        shutil.copy2(path, path.with_name(PREVIOUS))
        super().change_password(old_password, new_password)
        self.owner.changed.add(path.parent.resolve())


class RollbackKeys(ReferenceKeys):
    def __init__(self) -> None:
        self.changed: set[Path] = set()  # directories whose password this instance changed

    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return RollbackSession(super().create(directory, password, fast_kdf=fast_kdf).keyring, self)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        try:
            return RollbackSession(super().unlock(directory, password).keyring, self)
        except RejectedCredentials:
            previous = Path(directory) / PREVIOUS
            if Path(directory).resolve() in self.changed or not previous.exists():
                raise
            try:
                return RollbackSession(Keyring.unlock(previous, password), self)
            except WrongPasswordError as exc:
                raise RejectedCredentials(str(exc)) from None


def build() -> Target:
    return reference_with("old password accepted after a restart", keys=RollbackKeys())
