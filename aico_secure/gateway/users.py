"""Enrolled users: per user only an SRP salt and verifier, sealed at rest.

The store's API takes a verifier, never a password: there is no code path by which the server could keep the
password or the password-equivalent SRP ``x``. Enrolment computes the verifier on the client side
(``aico_secure.gateway.client``) and sends only (salt, verifier).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from aico_secure.gateway.errors import GatewayStateError, SrpError, UserExistsError
from aico_secure.gateway.sealed import SealedJson
from aico_secure.gateway.srp import GROUPS, MIN_SALT_BYTES, SrpGroup
from aico_secure.keys import UnlockedKeyring

USERS_FILE = "users.sealed"


@dataclass(frozen=True, repr=False)
class Credential:
    username: str
    group: SrpGroup
    salt: bytes
    verifier: int

    def __repr__(self) -> str:
        return f"Credential(username={self.username!r}, group={self.group.name})"


class UserStore:
    """Thread-safe; every change is written (sealed, atomically) before it is acknowledged."""

    def __init__(self, keyring: UnlockedKeyring, directory: Path) -> None:
        self._file = SealedJson(keyring, directory / USERS_FILE, "users")
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, str]] = {}
        if self._file.exists():
            self._records = self._checked(self._file.load().get("users"))

    @staticmethod
    def _checked(users: object) -> dict[str, dict[str, str]]:
        """Refuse a users file whose records are not what ``_record`` writes (it authenticated, so this means
        a bug or a format change: fail closed rather than mis-authenticate)."""
        if not isinstance(users, dict):
            raise GatewayStateError("users file has no user table")
        checked = {}
        for name, rec in users.items():
            try:
                group = GROUPS[rec["group"]]
                verifier = int(rec["verifier"], 16)
                bytes.fromhex(rec["salt"])
            except (KeyError, TypeError, ValueError):
                raise GatewayStateError("users file holds a malformed record") from None
            if not 1 < verifier < group.N:
                raise GatewayStateError("users file holds an out-of-range verifier")
            checked[str(name)] = {"group": rec["group"], "salt": rec["salt"], "verifier": rec["verifier"]}
        return checked

    def __repr__(self) -> str:
        return f"UserStore({len(self._records)} users)"

    def create(self) -> None:
        """Write the (empty) table of a new gateway."""
        with self._lock:
            self._file.save({"users": self._records})

    def enrol(self, username: str, group: SrpGroup, salt: bytes, verifier: int) -> None:
        if len(salt) < MIN_SALT_BYTES:
            raise SrpError(f"salt must be at least {MIN_SALT_BYTES} bytes")
        if not 1 < verifier < group.N:
            raise SrpError("verifier is out of range for the group")
        with self._lock:
            if username in self._records:
                raise UserExistsError("that user name is already enrolled")
            records = dict(self._records)
            records[username] = self._record(group, salt, verifier)
            self._file.save({"users": records})
            self._records = records

    @staticmethod
    def _record(group: SrpGroup, salt: bytes, verifier: int) -> dict[str, str]:
        return {"group": group.name, "salt": salt.hex(), "verifier": format(verifier, "x")}

    def lookup(self, username: str) -> Credential | None:
        record = self._records.get(username)
        if record is None:
            return None
        return Credential(username, GROUPS[record["group"]], bytes.fromhex(record["salt"]), int(record["verifier"], 16))

    def __contains__(self, username: str) -> bool:
        return username in self._records

    def credential_records(self) -> dict[str, bytes]:
        """Test hook: each user's record exactly as stored, decrypted (what the suite searches for
        password-equivalents)."""
        return {name: json.dumps(rec, sort_keys=True).encode() for name, rec in self._records.items()}
