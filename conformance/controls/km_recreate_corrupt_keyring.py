"""A damaged keyring is "repaired" by silently creating a fresh one over it: the build opens, the old data
keys are gone for good."""

from __future__ import annotations

from pathlib import Path

from aico_secure.keys import Keyring
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import IntegrityViolation, Target

from ._base import reference_with

BREAKS = ("AICO-KM-009",)


class RecreatingKeys(ReferenceKeys):
    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        try:
            return super().unlock(directory, password)
        except IntegrityViolation:
            Keyring.path_in(directory).unlink(missing_ok=True)
            return super().create(directory, password, fast_kdf=True)


def build() -> Target:
    return reference_with("corrupt keyring silently recreated", keys=RecreatingKeys())
