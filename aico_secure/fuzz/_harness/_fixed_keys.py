"""Data keys that are the same in every process, for harnesses of sealed or MACed formats.

Why fixed: a seed written today must still authenticate when the corpus is replayed in CI or fuzzed in
another process next month; with the random data keys of a fresh keyring every stored seed would fail at the
first MAC or AEAD check and the parser behind it would never be reached again. The keys are not secrets (they
protect nothing but fuzz inputs). ``FixedKeyring`` offers only the two lookups the reference code asks an
``UnlockedKeyring`` for (the active key of a purpose, a key by id), so real reference adapters run on it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, cast

from aico_secure.envelope import DataKey
from aico_secure.sensitive import SecretBytes

if TYPE_CHECKING:
    from aico_secure.keys import UnlockedKeyring


def fixed_data_key(purpose: str) -> DataKey:
    digest = hashlib.sha256(b"aico-fuzz-data-key\x00" + purpose.encode()).digest()
    return DataKey(hashlib.sha256(b"id\x00" + digest).digest()[:8], SecretBytes(digest))


class FixedKeyring:
    """One fixed data key per purpose; never rotates."""

    def __repr__(self) -> str:
        return "FixedKeyring(<fuzzing keys>)"

    def active_data_key(self, purpose: str) -> DataKey:
        return fixed_data_key(purpose)

    def data_key(self, purpose: str, key_id: bytes) -> DataKey | None:
        key = fixed_data_key(purpose)
        return key if bytes(key_id) == key.key_id else None


def fixed_keyring() -> UnlockedKeyring:
    """A ``FixedKeyring`` typed as what the reference adapters take (they call only the two lookups above)."""
    return cast("UnlockedKeyring", FixedKeyring())
