"""A wrong password "unlocks": the build hands back a session of throwaway keys instead of refusing
(the real AICO authenticate() accepted any password)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import RejectedCredentials, Target

from ._base import reference_with

BREAKS = ("AICO-KM-002", "AICO-KM-008")


class AcceptAnyPassword(ReferenceKeys):
    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        try:
            return super().unlock(directory, password)
        except RejectedCredentials:
            return super().create(Path(tempfile.mkdtemp()) / "keys", password or "x", fast_kdf=True)


def build() -> Target:
    return reference_with("wrong password accepted", keys=AcceptAnyPassword())
