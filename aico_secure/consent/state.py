"""The grants and pinned actor levels, kept sealed on disk and shared by every service open on the directory.

Why sealed: who may read which personal data is itself personal data, and an attacker who could edit it
would grant themself anything; the envelope (through the key session, purpose ``consent``) gives both
confidentiality and integrity, and a file that does not authenticate is refused, never half-used.

Why reloaded: several components may hold a consent service on the same directory. A revocation made through
one must stop access through all of them on the next access, so every decision first checks whether the file
changed (one ``stat``) and reloads it; every change is a read-modify-write under an exclusive file lock.
"""

from __future__ import annotations

import base64
import copy
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aico_secure.consent.errors import ConsentStateCorrupt
from aico_secure.keys.atomic import atomic_write
from aico_secure.target.consent import OPERATIONS, PERMISSION_LEVELS, Grant, PermissionLevel
from aico_secure.target.errors import IntegrityViolation
from aico_secure.target.keys import KeySession

PURPOSE = "consent"
RECORD = b"consent-state/v1"
STATE_NAME = "consent.state"
LOCK_NAME = "consent.lock"
MAX_STATE_BYTES = 16 << 20
GrantKey = tuple[str, str, str]  # (subject, category, operation)


@dataclass
class ConsentState:
    revision: int = 0
    levels: dict[str, PermissionLevel] = field(default_factory=dict)
    grants: dict[GrantKey, Grant] = field(default_factory=dict)

    def encode(self) -> bytes:
        document = {"v": 1, "revision": self.revision, "levels": self.levels,
                    "grants": [asdict(g) for g in self.grants.values()]}
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> ConsentState:
        try:
            document = json.loads(data.decode("utf-8"))
            state = cls(revision=int(document["revision"]))
            for actor, level in document["levels"].items():
                if level not in PERMISSION_LEVELS:
                    raise ValueError("level")
                state.levels[str(actor)] = level
            for item in document["grants"]:
                grant = Grant(str(item["subject"]), str(item["category"]), item["operation"],
                              str(item["granted_by"]), float(item["granted_at"]), float(item["expires_at"]))
                if grant.operation not in OPERATIONS:
                    raise ValueError("operation")
                state.grants[(grant.subject, grant.category, grant.operation)] = grant
        # OverflowError: a number out of int/float range (1e999 as the revision, a huge integer as a time);
        # RecursionError: JSON nested too deep.
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError):
            raise ConsentStateCorrupt("the consent state authenticates but is malformed") from None
        return state


class StateFile:
    """The sealed state file of one directory, with change detection and an exclusive writer lock."""

    def __init__(self, session: KeySession, directory: Path) -> None:
        self._session = session
        self.path = Path(directory) / STATE_NAME
        self._lock_path = Path(directory) / LOCK_NAME
        self._stamp: tuple[int, int, int] | None = None
        self.state = ConsentState()

    def _current_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def refresh(self) -> ConsentState:
        """The state as on disk now (reread only if the file changed since it was last read)."""
        stamp = self._current_stamp()
        if stamp is None:
            if self._stamp is not None:
                raise ConsentStateCorrupt(f"the consent state {self.path} disappeared")
            return self.state
        if stamp != self._stamp:
            self.state = self._load()
            self._stamp = stamp
        return self.state

    def _load(self) -> ConsentState:
        with self.path.open("rb") as fh:
            sealed = fh.read(MAX_STATE_BYTES + 1)
        if len(sealed) > MAX_STATE_BYTES:
            raise ConsentStateCorrupt(f"the consent state {self.path} is larger than {MAX_STATE_BYTES} bytes")
        try:
            raw = base64.b64decode(sealed, validate=True)
            plaintext = self._session.open(PURPOSE, RECORD, raw)
        except (ValueError, IntegrityViolation):
            raise ConsentStateCorrupt(f"the consent state {self.path} does not authenticate (edited, truncated "
                                      "or from another keyring)") from None
        return ConsentState.decode(plaintext)

    @contextmanager
    def changing(self) -> Iterator[ConsentState]:
        """Read-modify-write under the directory's lock; the change is saved when the block exits normally."""
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            draft = copy.deepcopy(self.refresh())  # a refused or failed change leaves the state untouched
            yield draft
            draft.revision += 1
            atomic_write(self.path, base64.b64encode(self._session.seal(PURPOSE, RECORD, draft.encode())))
            self.state, self._stamp = draft, self._current_stamp()
        finally:
            os.close(fd)
