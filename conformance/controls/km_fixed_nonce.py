"""AES-GCM with a fixed nonce: every record of a purpose is sealed with the same 96-bit nonce."""

from __future__ import annotations

from pathlib import Path

from aico_secure import envelope
from aico_secure.crypto.aead import aes_gcm_encrypt
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-011",)
FIXED_NONCE = b"\x00" * 12


class FixedNonceSession(ReferenceKeySession):
    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        key = self.keyring.active_data_key(purpose)
        header = bytes([envelope.VERSION]) + key.key_id + FIXED_NONCE
        aad = header + self._context(purpose, record_key).encode()
        return header + aes_gcm_encrypt(key.secret.reveal(), FIXED_NONCE, plaintext, aad)


class FixedNonceKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return FixedNonceSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return FixedNonceSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("AES-GCM with a fixed nonce", keys=FixedNonceKeys())
