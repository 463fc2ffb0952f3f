"""The AEAD envelope: how the reference build seals one record under one data key.

Wire format (all lengths fixed, so parsing has no ambiguity)::

    version (1 byte, 0x01) | key id (8 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext || tag (16 bytes)

The header (version and key id) and a ``RecordContext`` (store, collection, record key) are the associated
data. Binding the context means a sealed value copied to another record, collection or store fails to open;
binding the header means the key id cannot be swapped to steer decryption to another key.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from aico_secure.crypto.aead import (
    KEY_BYTES,
    NONCE_BYTES,
    TAG_BYTES,
    AesGcm,
    InvalidTagError,
    aes_gcm_decrypt,
    aes_gcm_encrypt,
    random_nonce,
    random_nonces,
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


_FIELD_LENGTH = struct.Struct(">I")


@dataclass(frozen=True)
class CollectionContext:
    """The (store, collection) part of every ``RecordContext`` in one collection, encoded once.

    Why: a store seals thousands of records of one collection; only the record key changes between them.
    ``encode(k)`` returns exactly ``RecordContext(store, collection, k).encode()``.
    """

    store: str
    collection: str
    _prefix: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The canonical encoding of an empty record key, less that key's 4-byte length field.
        object.__setattr__(self, "_prefix", RecordContext(self.store, self.collection, b"").encode()[:-4])

    def encode(self, record_key: bytes) -> bytes:
        return self._prefix + _FIELD_LENGTH.pack(len(record_key)) + record_key


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


def _well_formed(envelope: bytes) -> bytes:
    """The envelope as bytes, once its type, length and version say it can be one."""
    if not isinstance(envelope, (bytes, bytearray, memoryview)):
        raise MalformedEnvelopeError("envelope must be bytes")
    data = bytes(envelope)
    if len(data) < MIN_ENVELOPE_BYTES:
        raise MalformedEnvelopeError(f"envelope is {len(data)} bytes, shorter than the minimum {MIN_ENVELOPE_BYTES}")
    if data[0] != VERSION:
        raise MalformedEnvelopeError(f"unknown envelope version 0x{data[0]:02x}")
    return data


def parse(envelope: bytes) -> ParsedEnvelope:
    """Split an envelope into its parts, rejecting anything that cannot be one."""
    data = _well_formed(envelope)
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


def claimed_key_id(envelope: bytes) -> bytes:
    """The bytes where a well-formed envelope names its key, unchecked.

    Only for picking the ``Sealer`` to open it with: ``Sealer.open`` then checks the whole envelope, this key
    id included, so a malformed one fails there. Saves parsing every record twice on a store's read path.
    """
    return bytes(envelope[1 : 1 + KEY_ID_BYTES])


class Sealer:
    """Seals and opens envelopes under one data key, with its AES-GCM set up once.

    Same wire format, nonces and associated data as ``seal`` / ``open_with``; what it saves is the per-record
    cipher set-up (and, in ``seal_many``, one OS random read per record). ``encoded_context`` is a
    ``RecordContext.encode()`` or ``CollectionContext.encode(record_key)``. It holds key material: whoever
    keeps one drops it when the key stops being used (store closed, key retired).
    """

    __slots__ = ("_aead", "_header_prefix", "_key")

    def __init__(self, key: DataKey) -> None:
        self._key = key
        self._aead = AesGcm(key.secret.reveal())
        self._header_prefix = bytes([VERSION]) + key.key_id

    @property
    def key(self) -> DataKey:
        return self._key

    def __repr__(self) -> str:
        return f"Sealer(key_id={self._key.key_id.hex()})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("Sealer holds key material and refuses to be pickled")

    def _seal(self, nonce: bytes, plaintext: bytes, encoded_context: bytes) -> bytes:
        header = self._header_prefix + nonce
        return header + self._aead.encrypt(nonce, plaintext, header + encoded_context)

    def seal(self, plaintext: bytes, encoded_context: bytes) -> bytes:
        """Encrypt ``plaintext`` for the record whose encoded context is given, under a fresh random nonce."""
        return self._seal(random_nonce(), plaintext, encoded_context)

    def seal_many(self, records: Sequence[tuple[bytes, bytes]]) -> list[bytes]:
        """``seal`` for each (plaintext, encoded context), the nonces drawn in one read of the OS generator."""
        nonces = random_nonces(len(records))
        return [self._seal(nonce, plaintext, context)
                for nonce, (plaintext, context) in zip(nonces, records, strict=True)]

    def open(self, envelope: bytes, encoded_context: bytes) -> bytes:
        """Decrypt an envelope sealed under this sealer's key (one naming another key: ``UnknownKeyIdError``)."""
        data = _well_formed(envelope)
        header = data[:HEADER_BYTES]
        if header[1 : 1 + KEY_ID_BYTES] != self._key.key_id:
            raise UnknownKeyIdError(f"envelope names data key {header[1 : 1 + KEY_ID_BYTES].hex()}, not this one")
        try:
            return self._aead.decrypt(header[1 + KEY_ID_BYTES :], data[HEADER_BYTES:], header + encoded_context)
        except InvalidTagError:
            raise AuthenticationFailedError(
                "envelope failed authentication (wrong key, tampered bytes or a record moved from elsewhere)"
            ) from None
