"""AES-256-GCM with a 96-bit nonce: the one AEAD the reference build uses."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class InvalidTagError(Exception):
    """The GCM tag did not verify."""


def random_nonce() -> bytes:
    """A fresh random 96-bit nonce. Random nonces keep the collision bound at 2^-32 for 2^32 messages/key."""
    return os.urandom(NONCE_BYTES)


def aes_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Return ciphertext || tag."""
    return AESGCM(key).encrypt(nonce, plaintext, associated_data)


def aes_gcm_decrypt(key: bytes, nonce: bytes, ciphertext_and_tag: bytes, associated_data: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext_and_tag, associated_data)
    except InvalidTag as exc:
        raise InvalidTagError("authentication tag mismatch") from exc
