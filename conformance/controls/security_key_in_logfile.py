"""A "debug trace" in the keyring's directory logs each purpose key it seals with, as hex.

The kind of leak a developer adds while chasing a decryption bug and forgets: the keyring file itself stays
sealed and nothing goes through Python logging, only a plain log file next to the keyring gains
``seal purpose=libsql key=<hex>`` lines. The canary workload's inspection (AICO-SEC-001) must find the derived
key in that log file.
"""

from __future__ import annotations

from pathlib import Path

from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-SEC-001",)


class TracingSession(ReferenceKeySession):
    def __init__(self, keyring: UnlockedKeyring, trace: Path) -> None:
        super().__init__(keyring)
        self._trace = trace

    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> bytes:
        with self._trace.open("a", encoding="utf-8") as log:
            log.write(f"seal purpose={purpose} key={self.derive(purpose).hex()}\n")
        return super().seal(purpose, record_key, plaintext)


class TracingKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        session = super().create(directory, password, fast_kdf=fast_kdf)
        return TracingSession(session.keyring, Path(directory) / "keys-debug.log")

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        session = super().unlock(directory, password)
        return TracingSession(session.keyring, Path(directory) / "keys-debug.log")


def build() -> Target:
    return reference_with("purpose keys traced into a log file", keys=TracingKeys())
