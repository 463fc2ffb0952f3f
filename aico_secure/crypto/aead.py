"""AES-256-GCM with a 96-bit nonce: the one AEAD the reference build uses."""

from __future__ import annotations

import os
from typing import NoReturn

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


def random_nonces(count: int) -> list[bytes]:
    """``count`` fresh random nonces from one read of the OS generator.

    Why: one ``getrandom`` per record costs as much as the encryption of a small value; a batch draws all of
    its nonces at once. Every nonce is still independent and uniformly random, so the collision bound is
    unchanged, and nothing is kept between calls (no pool a forked child could share with its parent).
    """
    pool = os.urandom(NONCE_BYTES * count)
    return [pool[i:i + NONCE_BYTES] for i in range(0, len(pool), NONCE_BYTES)]


def aes_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Return ciphertext || tag."""
    return AESGCM(key).encrypt(nonce, plaintext, associated_data)


def aes_gcm_decrypt(key: bytes, nonce: bytes, ciphertext_and_tag: bytes, associated_data: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext_and_tag, associated_data)
    except InvalidTag as exc:
        raise InvalidTagError("authentication tag mismatch") from exc


class AesGcm:
    """One AES-256-GCM key, set up once and reused for many records.

    Why: building the cipher (key schedule, context) costs about twice the encryption of a small record, and
    a store seals thousands of records under the same data key. The object holds key material, so it prints
    redacted, refuses pickling, and its owner drops it when it stops using the key (store close, rotation).
    """

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
        """Return ciphertext || tag."""
        return self._aead.encrypt(nonce, plaintext, associated_data)

    def decrypt(self, nonce: bytes, ciphertext_and_tag: bytes, associated_data: bytes) -> bytes:
        try:
            return self._aead.decrypt(nonce, ciphertext_and_tag, associated_data)
        except InvalidTag as exc:
            raise InvalidTagError("authentication tag mismatch") from exc

    def __repr__(self) -> str:
        return "AesGcm(<redacted key>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("AesGcm holds key material and refuses to be pickled")
