"""A keyring without data-key rotation writes the master key, as hex, to a world-readable session file next to it.

The build never implemented ``rotate_data_key`` (it raises ``NotImplementedError``): one data key per purpose for
the keyring's life. Right after create and after every unlock it drops ``session.json`` (mode 0644, "so a
second process can attach without the KDF") beside ``keyring.json``. A suite whose leak and mode checks start by
rotating a data key would report this build "not implemented" and never look at the file; it must be judged at
the points it does have: create, unlock, close (AICO-KM-003 for the key, AICO-KM-010 for the mode).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-003", "AICO-KM-010")


class FixedDataKeySession(ReferenceKeySession):
    def rotate_data_key(self, purpose: str) -> None:
        raise NotImplementedError("data-key rotation is not supported by this keyring format")


class SessionFileKeys(ReferenceKeys):
    def _attach(self, directory: Path, session: ReferenceKeySession) -> FixedDataKeySession:
        path = Path(directory) / "session.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"pid": os.getpid(), "master": session.secret_material()["master"].hex()}, out)
        os.chmod(path, 0o644)  # other local processes of the user's desktop session attach through it
        return FixedDataKeySession(session.keyring)

    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return self._attach(directory, super().create(directory, password, fast_kdf=fast_kdf))

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return self._attach(directory, super().unlock(directory, password))


def build() -> Target:
    return reference_with("no data-key rotation, master key in a world-readable session file",
                          keys=SessionFileKeys())
