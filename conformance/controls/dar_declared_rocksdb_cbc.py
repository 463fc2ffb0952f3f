"""The RocksDB store seals its values with AES-256-CBC (PKCS#7 padding, random IV, no MAC) while it still
declares the AES-256-GCM envelope: the values are encrypted, but neither authenticated nor what the store says."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from aico_secure.envelope import KEY_ID_BYTES, VERSION
from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.errors import StoreIntegrityError
from aico_secure.stores.rocksdb import RocksDbStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-009",)
IV_BYTES = 16


class CbcRocksDbStore(RocksDbStore):
    """Same header as the envelope (version, key id), then a 16-byte IV and the padded CBC ciphertext."""

    def _seal_records(self, records: list[tuple[bytes, bytes]]) -> list[bytes]:
        key = self._keyring.active_data_key(self.purpose)
        sealed = []
        for _stored, payload in records:
            iv = os.urandom(IV_BYTES)
            padder = padding.PKCS7(128).padder()
            padded = padder.update(payload) + padder.finalize()
            encryptor = Cipher(algorithms.AES(key.secret.reveal()), modes.CBC(iv)).encryptor()
            sealed.append(bytes([VERSION]) + key.key_id + iv + encryptor.update(padded) + encryptor.finalize())
        return sealed

    def _open_record(self, stored_key: bytes, sealed: bytes) -> bytes:
        header = 1 + KEY_ID_BYTES
        key = self._keyring.data_key(self.purpose, sealed[1:header])
        body = sealed[header + IV_BYTES:]
        if key is None or not body or len(body) % 16:
            raise StoreIntegrityError(f"rocksdb store {self._directory}: a sealed value does not decrypt")
        decryptor = Cipher(algorithms.AES(key.secret.reveal()), modes.CBC(sealed[header:header + IV_BYTES])).decryptor()
        padded = decryptor.update(body) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise StoreIntegrityError(f"rocksdb store {self._directory}: a sealed value does not decrypt") from None


def build() -> Target:
    stores = {**reference_stores(), "rocksdb": ReferenceStore("rocksdb", CbcRocksDbStore)}
    return reference_with("RocksDB values in AES-CBC, GCM declared", stores=stores)
