"""Enrolled users: Argon2id password hashes (argon2-cffi's PHC strings), sealed at rest.

Why a decoy hash: a login for a name that is not enrolled is checked against a hash made at start-up, so it
costs the same time as a wrong password and is answered the same way; the API does not tell who is enrolled.
``verifications`` counts every hash check, which is the expensive, password-dependent step the lockout must
keep guessers away from.
"""

from __future__ import annotations

import secrets
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from .sealed import SealedFile
from .settings import Settings


class UserExists(Exception):
    """The name is taken."""


class PasswordBook:
    def __init__(self, file: SealedFile, settings: Settings) -> None:
        self._file = file
        self._hasher = PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib,
                                      parallelism=settings.argon2_parallelism, type=Type.ID)
        self._lock = threading.Lock()
        self._hashes: dict[str, str] = {}
        if file.exists():
            self._hashes = {str(k): str(v) for k, v in file.load().get("users", {}).items()}
        else:
            self._save()
        self._decoy = self._hasher.hash(secrets.token_urlsafe(24))
        self.verifications = 0

    def __repr__(self) -> str:
        return f"PasswordBook({len(self._hashes)} users)"

    def _save(self) -> None:
        self._file.save({"users": self._hashes})

    def enrol(self, username: str, password: str) -> None:
        hashed = self._hasher.hash(password)
        with self._lock:
            if username in self._hashes:
                raise UserExists("that user name is taken")
            self._hashes[username] = hashed
            self._save()

    def check(self, username: str, password: str) -> bool:
        """Whether ``password`` is ``username``'s; a successful check upgrades a hash made with weaker settings."""
        stored = self._hashes.get(username)
        self.verifications += 1
        try:
            self._hasher.verify(stored or self._decoy, password)
        except (VerificationError, InvalidHashError):
            return False
        if stored is None:
            return False
        if self._hasher.check_needs_rehash(stored):
            with self._lock:
                self._hashes[username] = self._hasher.hash(password)
                self._save()
        return True

    def records(self) -> dict[str, bytes]:
        return {name: hashed.encode() for name, hashed in self._hashes.items()}
