"""Malformed input escapes as raw, untyped exceptions (a JSON decoder's error, a struct error) instead of the
contract's refusals: callers cannot tell an attack from a bug."""

from __future__ import annotations

import json
from pathlib import Path

from aico_secure.keys import Keyring
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-SEC-002",)


class RawSession(ReferenceKeySession):
    def open(self, purpose: str, record_key: bytes, sealed: bytes) -> bytes:
        if len(sealed) < 29:
            raise IndexError("sealed blob too short")
        return super().open(purpose, record_key, sealed)


class RawKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return RawSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        json.loads(Keyring.path_in(directory).read_text())  # raises JSONDecodeError / FileNotFoundError as-is
        return RawSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("untyped errors on malformed input", keys=RawKeys())
