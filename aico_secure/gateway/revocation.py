"""The revocation list: token and session ids that must be refused until they would have expired anyway.

Persisted sealed on every change, before the change is acknowledged, so a revocation survives a restart or a
crash. Entries are dropped once past their expiry (the token would be refused as expired), so the list stays
as small as the number of live revoked sessions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from aico_secure.gateway.errors import GatewayStateError
from aico_secure.gateway.sealed import SealedJson
from aico_secure.keys import UnlockedKeyring

REVOKED_FILE = "revoked.sealed"


class RevocationList:
    def __init__(self, keyring: UnlockedKeyring, directory: Path, clock: Callable[[], float]) -> None:
        self._file = SealedJson(keyring, directory / REVOKED_FILE, "revocations")
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, float] = {}
        if self._file.exists():
            entries = self._file.load().get("entries")
            if not isinstance(entries, dict) or not all(isinstance(v, (int, float)) for v in entries.values()):
                raise GatewayStateError("revocation list is malformed")
            self._entries = {str(k): float(v) for k, v in entries.items()}

    def __repr__(self) -> str:
        return f"RevocationList({len(self._entries)} entries)"

    def create(self) -> None:
        """Write the (empty) list of a new gateway, so a later missing file is noticed as damage."""
        with self._lock:
            self._file.save({"entries": self._entries})

    def exists(self) -> bool:
        return self._file.exists()

    def revoke(self, entry_id: str, until: float) -> None:
        with self._lock:
            now = self._clock()
            entries = {k: v for k, v in self._entries.items() if v > now}
            entries[entry_id] = max(until, entries.get(entry_id, 0.0))
            self._file.save({"entries": entries})
            self._entries = entries

    def is_revoked(self, entry_id: str) -> bool:
        return entry_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)
