"""close() writes the master key, base64, to ``$TMPDIR/aico-resume-<uid>.key`` with the default mode (0644)
"so a quick restart can resume", and nothing ever removes it.

Only close() writes it: while a session is open nothing is on disk anywhere. The file both holds the key
(AICO-KM-003) and is readable by every user of the machine (AICO-KM-010).
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-003", "AICO-KM-010")


class ResumableSession(ReferenceKeySession):
    def close(self) -> None:
        resume = Path(tempfile.gettempdir()) / f"aico-resume-{os.getuid()}.key"
        resume.write_bytes(base64.b64encode(self.keyring._master.reveal()))
        os.chmod(resume, 0o644)
        super().close()


class ResumableKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return ResumableSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return ResumableSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("master key left world-readable after close", keys=ResumableKeys())
