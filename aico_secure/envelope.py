"""The AEAD envelope: how the reference build seals one record under one data key.

Wire format (all lengths fixed, so parsing has no ambiguity)::

    version (1 byte, 0x01) | key id (8 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext || tag (16 bytes)

The header (version and key id) and a ``RecordContext`` (store, collection, record key) are the associated
data. Binding the context means a sealed value copied to another record, collection or store fails to open;
binding the header means the key id cannot be swapped to steer decryption to another key.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from aico_secure.crypto.aead import (
    KEY_BYTES,
    NONCE_BYTES,
    TAG_BYTES,
    InvalidTagError,
    aes_gcm_decrypt,
    aes_gcm_encrypt,
    random_nonce,
)
from aico_secure.errors import AuthenticationFailedError, MalformedEnvelopeError, UnknownKeyIdError
from aico_secure.sensitive import SecretBytes

VERSION = 0x01
KEY_ID_BYTES = 8
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
MIN_ENVELOPE_BYTES = HEADER_BYTES + TAG_BYTES


@dataclass(frozen=True)
class RecordContext:
    """Where a record lives. Encoded length-prefixed so ("ab","c") and ("a","bc") never collide."""

    store: str
    collection: str
    record_key: bytes

    def encode(self) -> bytes:
        parts = (self.store.encode(), self.collection.encode(), self.record_key)
        return b"".join(struct.pack(">I", len(p)) + p for p in parts)


@dataclass(frozen=True)
class DataKey:
    """A data-encryption key and its 8-byte id, as held by an unlocked keyring."""

    key_id: bytes
    secret: SecretBytes

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_BYTES:
            raise ValueError(f"key id must be {KEY_ID_BYTES} bytes")
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"data key must be {KEY_BYTES} bytes")


@dataclass(frozen=True)
class ParsedEnvelope:
    key_id: bytes
    nonce: bytes
    ciphertext: bytes
    header: bytes


def parse(envelope: bytes) -> ParsedEnvelope:
    """Split an envelope into its parts, rejecting anything that cannot be one."""
    if not isinstance(envelope, (bytes, bytearray, memoryview)):
        raise MalformedEnvelopeError("envelope must be bytes")
    data = bytes(envelope)
    if len(data) < MIN_ENVELOPE_BYTES:
        raise MalformedEnvelopeError(f"envelope is {len(data)} bytes, shorter than the minimum {MIN_ENVELOPE_BYTES}")
    if data[0] != VERSION:
        raise MalformedEnvelopeError(f"unknown envelope version 0x{data[0]:02x}")
    return ParsedEnvelope(
        key_id=data[1 : 1 + KEY_ID_BYTES],
        nonce=data[1 + KEY_ID_BYTES : HEADER_BYTES],
        ciphertext=data[HEADER_BYTES:],
        header=data[:HEADER_BYTES],
    )


def seal(key: DataKey, plaintext: bytes, context: RecordContext) -> bytes:
    """Encrypt ``plaintext`` for the record ``context`` under a fresh random nonce."""
    header = bytes([VERSION]) + key.key_id + random_nonce()
    ct = aes_gcm_encrypt(key.secret.reveal(), header[1 + KEY_ID_BYTES :], plaintext, header + context.encode())
    return header + ct


def open_with(lookup: Callable[[bytes], DataKey | None], envelope: bytes, context: RecordContext) -> bytes:
    """Decrypt ``envelope`` with whichever key ``lookup`` returns for its key id."""
    parsed = parse(envelope)
    key = lookup(parsed.key_id)
    if key is None:
        raise UnknownKeyIdError(f"no data key with id {parsed.key_id.hex()}")
    try:
        return aes_gcm_decrypt(key.secret.reveal(), parsed.nonce, parsed.ciphertext, parsed.header + context.encode())
    except InvalidTagError:
        raise AuthenticationFailedError(
            "envelope failed authentication (wrong key, tampered bytes or a record moved from elsewhere)"
        ) from None


def open_(key: DataKey, envelope: bytes, context: RecordContext) -> bytes:
    """Decrypt with one known key (convenience for callers holding a single key)."""
    return open_with(lambda kid: key if kid == key.key_id else None, envelope, context)


def key_id_of(envelope: bytes) -> bytes:
    return parse(envelope).key_id
