"""Data keys derived from the password with a weak KDF (PBKDF2, 1,000 iterations, fixed salt) instead of
being random and wrapped: anyone with the password guessable offline, and equal passwords give equal keys."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from aico_secure.envelope import DataKey
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.sensitive import SecretBytes
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-005",)


class WeakKeyring:
    """Wraps the real keyring but answers data-key questions with password-derived keys."""

    def __init__(self, inner: object, password: str) -> None:
        self._inner = inner
        self._password = password

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def _weak(self, purpose: str) -> DataKey:
        key = hashlib.pbkdf2_hmac("sha256", self._password.encode(), b"aico-static-salt" + purpose.encode(), 1000)
        return DataKey(key_id=hashlib.sha256(purpose.encode()).digest()[:8], secret=SecretBytes(key))

    def active_data_key(self, purpose: str) -> DataKey:
        return self._weak(purpose)

    def data_key(self, purpose: str, key_id: bytes) -> DataKey | None:
        key = self._weak(purpose)
        return key if key.key_id == key_id else None

    def data_keys(self, purpose: str) -> list[DataKey]:
        return [self._weak(purpose)]


class WeakSession(ReferenceKeySession):
    def secret_material(self) -> Mapping[str, bytes]:
        material = dict(super().secret_material())
        for purpose in self.keyring.purposes():
            material[f"dek:{purpose}"] = self.keyring.active_data_key(purpose).secret.reveal()
            material.pop(next((k for k in list(material) if k.startswith(f"dek:{purpose}:")), ""), None)
        return material


class WeakKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return WeakSession(WeakKeyring(super().create(directory, password, fast_kdf=fast_kdf).keyring, password))  # type: ignore[arg-type]

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return WeakSession(WeakKeyring(super().unlock(directory, password).keyring, password))  # type: ignore[arg-type]


def build() -> Target:
    return reference_with("data keys derived from the password", keys=WeakKeys())
