"""A password change appends the old and new passwords to a "history" file in ``$XDG_STATE_HOME/aico/``, to
refuse reuse later; the file is owner-only.

The leak is a password, not a key, written only on a password change and outside the keyring's directory
(AICO-KM-003: the password is the only secret behind the master key).
"""

from __future__ import annotations

import os
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-003",)


class HistorySession(ReferenceKeySession):
    def change_password(self, old_password: str, new_password: str) -> None:
        super().change_password(old_password, new_password)
        state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "aico"
        state.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(state / "password-history", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as history:
            history.write(f"{old_password}\n{new_password}\n")


class HistoryKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return HistorySession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return HistorySession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("password history kept in plaintext", keys=HistoryKeys())
