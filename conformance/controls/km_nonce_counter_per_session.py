"""AES-GCM nonces from a counter that starts again at every unlock: unique within a session, repeated across them.

"Random nonces can collide, a counter never does": the session numbers its seals from zero, behind a fixed
per-key prefix. Within one session no nonce repeats; the first record sealed after the next unlock reuses the
first nonce of the last session under the same data key, so the two records' keystreams cancel out
(AICO-KM-011).
"""

from __future__ import annotations

import itertools
from pathlib import Path

from aico_secure import envelope
from aico_secure.crypto.aead import aes_gcm_encrypt
from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-011",)


class CountingSession(ReferenceKeySession):
    def __init__(self, keyring: UnlockedKeyring) -> None:
        super().__init__(keyring)
        self._counter = itertools.count()

    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        key = self.keyring.active_data_key(purpose)
        nonce = key.key_id[:4] + next(self._counter).to_bytes(8, "big")
        header = bytes([envelope.VERSION]) + key.key_id + nonce
        aad = header + self._context(purpose, record_key).encode()
        return header + aes_gcm_encrypt(key.secret.reveal(), nonce, plaintext, aad)


class CountingKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return CountingSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return CountingSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("AES-GCM nonce counter restarting at every unlock", keys=CountingKeys())
