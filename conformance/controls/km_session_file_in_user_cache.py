"""Each unlock writes the master key, as hex, to a per-user session file ``$XDG_CACHE_HOME/aico/session.json``
"so the next start can skip the KDF"; close() deletes it.

Nothing lands in the keyring's directory, so a scan of that directory alone finds nothing; the file lives
only while a session is open. The write watch sees it in the suite's cache directory after create and unlock,
and keeps the removed file's bytes for the scan after close (AICO-KM-003).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-003",)


def _session_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aico" / "session.json"


class CachedSession(ReferenceKeySession):
    def __init__(self, keyring: UnlockedKeyring) -> None:
        super().__init__(keyring)
        path = _session_file()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"keyring": str(keyring.path), "master": keyring._master.reveal().hex()}, handle)

    def close(self) -> None:
        _session_file().unlink(missing_ok=True)
        super().close()


class CachingKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return CachedSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return CachedSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("master key in a per-user session cache", keys=CachingKeys())
