"""Lockout state at rest: failure counts and locks, sealed, so a restart does not hand an attacker fresh guesses.

Why persisted: an online guesser who can make the gateway restart (a crash, an update, a reboot of the device)
would otherwise get ``threshold`` new guesses per restart. Like the revocation list, the file is written on
every change *before* the change is acknowledged: ``AuthGuard`` saves inside the step that counts a failure,
so the 401 for a wrong proof is only sent once the failure is on disk (a failed save fails the request, and
the failure still counts in memory). The file is sealed as one envelope (``sealed``): it hides the identities
tried and the number of failures, and an edited or swapped file is refused as damage.

Why a generation anchored in the keyring (as for the revocation list): sealing stops edits but not a restore of
an older sealed copy, taken before the failures, which would give the guesses back. Every save seals a
generation one higher, then raises the keyring's counter for this file (``UnlockedKeyring.advance_counter``).
File first, counter second: a crash between the two leaves the counter behind the file, which loads (and the
counter catches up); a file whose generation is below the counter is an older copy and is refused
(``LockoutRollbackError``). Restoring the keyring together with the file is not detectable locally.

Document: ``{"identity": {key: [failures, lockouts, locked_until, last_failure]}, "address": {...},
"generation": n, "store_id": hex}``, times on the gateway's clock (seconds since the epoch), so locks end on
time across a restart.
"""

from __future__ import annotations

import math
import secrets
from pathlib import Path
from typing import Any

from aico_secure.errors import AicoSecureError
from aico_secure.gateway.errors import GatewayStateError
from aico_secure.gateway.sealed import SealedJson
from aico_secure.keys import UnlockedKeyring

LOCKOUT_FILE = "lockouts.sealed"
COUNTER_PREFIX = "gateway-lockouts:"
STORE_ID_BYTES = 16
KINDS = ("identity", "address")
Snapshot = dict[str, tuple[int, int, float, float]]


class LockoutRollbackError(GatewayStateError):
    """The lockout file on disk is older than the keyring's anchor for it: an older copy was restored."""


class LockoutStore:
    def __init__(self, keyring: UnlockedKeyring, directory: Path) -> None:
        self._keyring = keyring
        self._file = SealedJson(keyring, Path(directory) / LOCKOUT_FILE, "lockouts")
        self._generation = 0
        self._store_id = secrets.token_hex(STORE_ID_BYTES)

    def __repr__(self) -> str:
        return f"LockoutStore(generation {self._generation})"

    @property
    def counter_name(self) -> str:
        return COUNTER_PREFIX + self._store_id

    def exists(self) -> bool:
        return self._file.exists()

    def create(self) -> None:
        """Write the empty state of a new gateway, so a later missing file is noticed as damage."""
        self.save({kind: {} for kind in KINDS})

    def save(self, tables: dict[str, Snapshot]) -> None:
        """Seal ``tables`` as the next generation, then anchor that generation in the keyring."""
        generation = self._generation + 1
        document: dict[str, Any] = {kind: {k: list(v) for k, v in tables.get(kind, {}).items()} for kind in KINDS}
        self._file.save({**document, "generation": generation, "store_id": self._store_id})
        self._generation = generation
        self._anchor(generation)

    def load(self) -> dict[str, Snapshot]:
        """The stored tables; ``GatewayStateError`` if the file is missing, damaged, malformed or rolled back."""
        document = self._file.load()
        tables: dict[str, Snapshot] = {}
        for kind in KINDS:
            table = document.get(kind)
            if not isinstance(table, dict):
                raise GatewayStateError("lockout state is malformed")
            tables[kind] = {str(key): _record(value) for key, value in table.items()}
        generation, store_id = document.get("generation"), document.get("store_id")
        if type(generation) is not int or generation < 1 or not isinstance(store_id, str) \
                or len(store_id) != 2 * STORE_ID_BYTES or store_id.strip("0123456789abcdef"):
            raise GatewayStateError("lockout state is malformed (generation)")
        self._store_id = store_id
        anchored = self._anchored()
        if generation < anchored:
            raise LockoutRollbackError(f"the lockout state was rolled back: generation {generation} on disk, but the "
                                       f"keyring's anchor records {anchored} (an older copy was restored; failed "
                                       "attempts counted since would be forgotten)")
        self._generation = generation
        if generation > anchored:
            self._anchor(generation)  # a crash between the file and the anchor: catch up
        return tables

    def _anchored(self) -> int:
        try:
            return self._keyring.counter(self.counter_name)
        except (AicoSecureError, OSError, ValueError) as exc:
            raise GatewayStateError(f"the lockout state's rollback anchor cannot be read ({type(exc).__name__})") \
                from None

    def _anchor(self, generation: int) -> None:
        try:
            self._keyring.advance_counter(self.counter_name, generation)
        except (AicoSecureError, OSError, ValueError) as exc:
            raise GatewayStateError(f"the lockout state was saved but its rollback anchor could not be advanced "
                                    f"({type(exc).__name__})") from None


def _record(value: object) -> tuple[int, int, float, float]:
    if not isinstance(value, list) or len(value) != 4:
        raise GatewayStateError("lockout state is malformed")
    failures, lockouts, locked_until, last_failure = value
    if not (type(failures) is int and type(lockouts) is int and failures >= 0 and lockouts >= 0
            and all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t)
                    for t in (locked_until, last_failure))):
        raise GatewayStateError("lockout state is malformed")
    return failures, lockouts, float(locked_until), float(last_failure)
