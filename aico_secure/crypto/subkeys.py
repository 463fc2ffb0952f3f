"""Purpose-bound subkeys of one data key, and keyed blinding of names.

A store sometimes needs more than one key from its data key (one to seal values, one to blind record names,
one for vector encryption). Deriving them with HKDF under distinct, versioned labels keeps them independent:
learning one (for example through a weakness in vector encryption) says nothing about the others.
"""

from __future__ import annotations

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
