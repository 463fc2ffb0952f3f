"""The build always uses its cheap test KDF profile, even when a production keyring is asked for."""

from __future__ import annotations

from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-001",)


class AlwaysFastKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return super().create(directory, password, fast_kdf=True)


def build() -> Target:
    return reference_with("test KDF profile in production", keys=AlwaysFastKeys())
