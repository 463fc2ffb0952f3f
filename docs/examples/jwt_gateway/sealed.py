"""State at rest: small JSON documents sealed with the key session the gateway was started with.

Why sealed whole: user names, password hashes, revocations and failure counts are nobody's business on disk,
and sealing each file as one AEAD record (bound to its name) turns a flipped byte, a truncation or a file copied
over another into a refusal to start (``IntegrityViolation``) instead of state silently reset, which is what
someone who can corrupt a file would want from a lockout or revocation list. Writes are atomic (temporary file,
fsync, rename) and happen before the request that caused them is answered.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aico_secure.target import IntegrityViolation
from aico_secure.target.keys import KeySession

PURPOSE = "jwt-gateway"


class SealedFile:
    def __init__(self, session: KeySession, path: Path) -> None:
        self._session = session
        self.path = path
        self._record = f"jwt-gateway/{path.name}".encode()

    def __repr__(self) -> str:
        return f"SealedFile({self.path.name!r})"

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> dict[str, Any]:
        try:
            sealed = self.path.read_bytes()
        except OSError as exc:
            raise IntegrityViolation(f"cannot read {self.path.name} ({type(exc).__name__})") from None
        plain = self._session.open(PURPOSE, self._record, sealed)  # IntegrityViolation if it does not authenticate
        try:
            document = json.loads(plain)
        except ValueError:
            raise IntegrityViolation(f"{self.path.name} is not JSON") from None
        if not isinstance(document, dict):
            raise IntegrityViolation(f"{self.path.name} is not a JSON object")
        return document

    def save(self, document: dict[str, Any]) -> None:
        data = self._session.seal(PURPOSE, self._record, json.dumps(document, sort_keys=True).encode())
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
