"""A failed unlock appends the attempted password to ``$XDG_STATE_HOME/aico/unlock-failures.log`` "to help
the user see what they typed".

Only a failed unlock writes it, and what it writes is a near-miss of the real password (a typo), which is as
good as the password itself (AICO-KM-003).
"""

from __future__ import annotations

import os
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import RejectedCredentials, Target

from ._base import reference_with

BREAKS = ("AICO-KM-003",)


class LoggingKeys(ReferenceKeys):
    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        try:
            return super().unlock(directory, password)
        except RejectedCredentials:
            state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "aico"
            state.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(state / "unlock-failures.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as log:
                log.write(f"failed unlock of {directory}: tried {password!r}\n")
            raise


def build() -> Target:
    return reference_with("failed unlock attempts logged with the password", keys=LoggingKeys())
