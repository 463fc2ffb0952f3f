"""The ``Sealer`` objects a store keeps between records: one per data key in use.

Why: setting up AES-GCM costs more than sealing or opening one small record, and a store handles
thousands of records under the same few keys. The rules for keeping key objects, the same for every store
that uses it (RocksDB, Chroma): a cached ``Sealer`` is used only while the keyring still returns that very
``DataKey`` (a reloaded keyring hands out new objects), the owner forgets the entry of a key the keyring no
longer returns, and clears everything when it closes, after which nothing is cached; reprs are redacted and
pickling is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from aico_secure import envelope
from aico_secure.envelope import DataKey, Sealer
from aico_secure.errors import UnknownKeyIdError


class SealerCache:
    """``Sealer`` objects by key id. ``closed`` reports whether the owner has closed meanwhile (another thread
    may close it while a record is being sealed): a sealer made then is handed out once but not kept."""

    __slots__ = ("_closed", "_sealers")

    def __init__(self, closed: Callable[[], bool]) -> None:
        self._sealers: dict[bytes, Sealer] = {}
        self._closed = closed

    def sealer(self, key: DataKey) -> Sealer:
        sealer = self._sealers.get(key.key_id)
        if sealer is None or sealer.key is not key:
            sealer = self._sealers[key.key_id] = Sealer(key)
            if self._closed():
                self._sealers.clear()
        return sealer

    def open_with(self, lookup: Callable[[bytes], DataKey | None], sealed: bytes, associated: bytes) -> bytes:
        """``envelope.open_with`` through the cache: open ``sealed`` with whichever key ``lookup`` returns for
        the key id its header names, forgetting the sealer of a key the keyring no longer returns."""
        key_id = envelope.claimed_key_id(sealed)
        key = lookup(key_id)
        if key is None:
            self.forget(key_id)  # retired since it was cached
            raise UnknownKeyIdError(f"no data key with id {key_id.hex()}")
        return self.sealer(key).open(sealed, associated)

    def forget(self, key_id: bytes) -> None:
        """Drop the sealer of a key the keyring no longer returns."""
        self._sealers.pop(key_id, None)

    def clear(self) -> None:
        self._sealers.clear()

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._sealers

    def __len__(self) -> int:
        return len(self._sealers)

    def __repr__(self) -> str:
        return f"SealerCache(key_ids={sorted(k.hex() for k in self._sealers)})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("SealerCache holds key material and refuses to be pickled")
