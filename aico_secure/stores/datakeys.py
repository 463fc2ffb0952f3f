"""Which of a keyring's data keys a store tries, and in what order.

The keyring keeps every data key of a purpose (the active one and the retired ones) until they are retired
explicitly, so a store never needs its own record of which key it is under: it tries the active key first and
then the older ones, newest first. That is what makes rotation crash-safe: whether a crash left the files
under the old or the new key, both are in the keyring. A keyring with none of them cannot open the store.
"""

from __future__ import annotations

from aico_secure.envelope import DataKey
from aico_secure.keys import UnlockedKeyring


def keys_to_try(keyring: UnlockedKeyring, purpose: str) -> list[DataKey]:
    """Every data key of ``purpose``: the active one first, then the retired ones, newest first."""
    found = []
    for key_id in reversed(keyring.key_ids(purpose)):
        key = keyring.data_key(purpose, bytes.fromhex(key_id))
        if key is not None:
            found.append(key)
    return found


def has_keys(keyring: UnlockedKeyring, purpose: str) -> bool:
    return bool(keyring.key_ids(purpose))
