"""Purpose-bound subkeys of one data key, and keyed blinding or deterministic encryption of names.

A store sometimes needs more than one key from its data key (one to seal values, one to blind record names,
one for vector encryption). Deriving them with HKDF under distinct, versioned labels keeps them independent:
learning one (for example through a weakness in vector encryption) says nothing about the others.
"""

from __future__ import annotations

from typing import NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from aico_secure.crypto.hkdf import hkdf_sha256, hmac_sha256
from aico_secure.sensitive import SecretBytes

SUBKEY_PREFIX = "aico-secure/v1/subkey/"
BLIND_BYTES = 16


def derive_subkey(data_key: SecretBytes, label: str, length: int = 32) -> SecretBytes:
    """HKDF-SHA256 of ``data_key`` for ``label`` (e.g. "rocksdb/blind"). Same inputs, same subkey."""
    if not label or not label.isascii():
        raise ValueError("a subkey label is a non-empty ASCII string")
    return SecretBytes(hkdf_sha256(data_key.reveal(), info=(SUBKEY_PREFIX + label).encode(), length=length))


def blind(key: SecretBytes, name: bytes) -> bytes:
    """A keyed, deterministic, one-way stand-in for ``name`` (HMAC-SHA256 truncated to 128 bits).

    Deterministic so the same name finds the same record; keyed so nobody without the key can test guesses.
    """
    return hmac_sha256(key.reveal(), name)[:BLIND_BYTES]


NAME_BUCKET = 32
_NAME_AD = b"aico-secure/v1/name"


def _pad(name: bytes) -> bytes:
    """ISO/IEC 7816-4 padding to a multiple of ``NAME_BUCKET``: only the length bucket of a name shows."""
    padded = name + b"\x80"
    return padded + b"\0" * (-len(padded) % NAME_BUCKET)


def _unpad(padded: bytes) -> bytes:
    end = padded.rstrip(b"\0")
    if not end.endswith(b"\x80"):
        raise ValueError("malformed name padding")
    return end[:-1]


def encrypt_name(key: SecretBytes, name: bytes) -> bytes:
    """Deterministic, reversible encryption of a record name (AES-256-SIV, RFC 5297) with a 64-byte key.

    Like ``blind`` it maps equal names to equal outputs (so lookups work) and reveals nothing else but the
    length bucket; unlike ``blind`` the owner can turn it back into the name, so an index can return names
    without fetching and opening a payload for each hit.
    """
    return AESSIV(key.reveal()).encrypt(_pad(name), [_NAME_AD])


def decrypt_name(key: SecretBytes, token: bytes) -> bytes:
    """Inverse of ``encrypt_name``; ``ValueError`` for anything that does not authenticate."""
    try:
        return _unpad(AESSIV(key.reveal()).decrypt(token, [_NAME_AD]))
    except InvalidTag:
        raise ValueError("an encrypted name does not authenticate") from None


class Blinder:
    """``blind`` under one key, with the HMAC key schedule computed once.

    Why: a store blinds the name of every record it reads or writes, and setting up HMAC (hashing the padded
    key twice) costs more than the MAC of a short name. Each call copies the keyed state, so the object itself
    is never changed and may be shared between threads. It holds key-derived state: it prints redacted,
    refuses pickling, and its owner drops it when it closes.
    """

    __slots__ = ("_mac",)

    def __init__(self, key: SecretBytes) -> None:
        self._mac = crypto_hmac.HMAC(key.reveal(), hashes.SHA256())

    def __call__(self, name: bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(name)
        return mac.finalize()[:BLIND_BYTES]

    def __repr__(self) -> str:
        return "Blinder(<redacted key>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("Blinder holds key material and refuses to be pickled")


class NameCipher:
    """``subkeys.encrypt_name`` / ``decrypt_name`` under one 64-byte key, with the AES-SIV key schedule set up
    once: same padding, associated data and output, so names already stored stay readable and equal."""

    __slots__ = ("_siv",)

    def __init__(self, key: SecretBytes) -> None:
        self._siv = AESSIV(key.reveal())

    def encrypt(self, name: bytes) -> bytes:
        return self._siv.encrypt(_pad(name), [_NAME_AD])

    def decrypt(self, token: bytes) -> bytes:
        """``ValueError`` for anything that does not authenticate, as ``decrypt_name``."""
        try:
            return _unpad(self._siv.decrypt(token, [_NAME_AD]))
        except InvalidTag:
            raise ValueError("an encrypted name does not authenticate") from None

    def __repr__(self) -> str:
        return "NameCipher(<redacted key>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("NameCipher holds key material and refuses to be pickled")
