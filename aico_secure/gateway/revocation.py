"""The revocation list: token and session ids that must be refused until they would have expired anyway.

Persisted sealed on every change, before the change is acknowledged, so a revocation survives a restart or a
crash. Entries are dropped once past their expiry (the token would be refused as expired), so the list stays
as small as the number of live revoked sessions.

Why a generation anchored in the keyring: the sealed file stops edits, but not a restore of an older sealed
copy, which would un-revoke every token revoked since (a stolen refresh token valid again). Every save seals a
generation number one higher into the list, then raises the keyring's counter for this list to it
(``UnlockedKeyring.advance_counter``, under the keyring's MAC). File first, counter second: a crash between
the two leaves the counter behind the file, which loads (and the counter is caught up); a list whose
generation is below the counter is an older copy and is refused (``RevocationRollbackError``). The counter is
named after a random id sealed into the list, so several gateways can share one keyring. Limits: restoring
the keyring together with the list is not detectable locally; a list written before generations existed has
none, loads as generation 0 while the keyring holds no counter for it, and is anchored from its next save.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aico_secure.errors import AicoSecureError
from aico_secure.gateway.errors import GatewayStateError
from aico_secure.gateway.sealed import SealedJson
from aico_secure.keys import UnlockedKeyring

REVOKED_FILE = "revoked.sealed"
COUNTER_PREFIX = "gateway-revocations:"
LIST_ID_BYTES = 16


class RevocationRollbackError(GatewayStateError):
    """The revocation list on disk is older than the keyring's anchor for it: an older copy was restored."""


def _generation(document: dict[str, Any]) -> int:
    value = document.get("generation", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise GatewayStateError("revocation list is malformed (generation)")
    return value


def _list_id(document: dict[str, Any]) -> str | None:
    value = document.get("list_id")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 2 * LIST_ID_BYTES or value.strip("0123456789abcdef"):
        raise GatewayStateError("revocation list is malformed (list id)")
    return value


class RevocationList:
    def __init__(self, keyring: UnlockedKeyring, directory: Path, clock: Callable[[], float]) -> None:
        self._keyring = keyring
        self._file = SealedJson(keyring, directory / REVOKED_FILE, "revocations")
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, float] = {}
        self._generation = 0
        self._list_id = secrets.token_hex(LIST_ID_BYTES)
        if self._file.exists():
            document = self._file.load()
            entries = document.get("entries")
            if not isinstance(entries, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                        for v in entries.values()):
                raise GatewayStateError("revocation list is malformed")
            generation, list_id = _generation(document), _list_id(document)
            if list_id is not None:
                self._list_id = list_id
                self._check_anchor(generation)
            self._entries = {str(k): float(v) for k, v in entries.items()}
            self._generation = generation

    def __repr__(self) -> str:
        return f"RevocationList({len(self._entries)} entries, generation {self._generation})"

    @property
    def generation(self) -> int:
        return self._generation

    def _counter(self) -> str:
        return COUNTER_PREFIX + self._list_id

    def _check_anchor(self, generation: int) -> None:
        try:
            anchored = self._keyring.counter(self._counter())
        except (AicoSecureError, OSError, ValueError) as exc:
            raise GatewayStateError(f"the revocation list's rollback anchor cannot be read "
                                    f"({type(exc).__name__})") from None
        if generation < anchored:
            raise RevocationRollbackError(f"the revocation list was rolled back: generation {generation} on disk, "
                                          f"but the keyring's anchor records {anchored} (an older copy was "
                                          "restored; revoked tokens would be valid again)")
        if generation > anchored:
            self._anchor(generation)  # a crash between the file and the anchor: catch up

    def _anchor(self, generation: int) -> None:
        try:
            self._keyring.advance_counter(self._counter(), generation)
        except (AicoSecureError, OSError, ValueError) as exc:
            raise GatewayStateError(f"the revocation list was saved but its rollback anchor could not be "
                                    f"advanced ({type(exc).__name__})") from None

    def _save(self, entries: dict[str, float]) -> None:
        """Seal ``entries`` as the next generation, then anchor it. Memory follows the file even when the anchor
        fails: the revocation is on disk, so refusing the token is the safe side."""
        generation = self._generation + 1
        self._file.save({"entries": entries, "generation": generation, "list_id": self._list_id})
        self._entries, self._generation = entries, generation
        self._anchor(generation)

    def create(self) -> None:
        """Write the (empty) list of a new gateway, so a later missing file is noticed as damage."""
        with self._lock:
            self._save(dict(self._entries))

    def exists(self) -> bool:
        return self._file.exists()

    def revoke(self, entry_id: str, until: float) -> None:
        with self._lock:
            now = self._clock()
            entries = {k: v for k, v in self._entries.items() if v > now}
            entries[entry_id] = max(until, entries.get(entry_id, 0.0))
            self._save(entries)

    def is_revoked(self, entry_id: str) -> bool:
        return entry_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)
