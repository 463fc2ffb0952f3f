"""Everything one running gateway holds, opened from its directory.

Files (each a ``SealedFile``): ``instance.json.sealed`` (this gateway's audience id), ``users``, ``lockouts`` and
``revocations``. A directory that has an instance file but lacks one of the others is refused: a deleted
lockout or revocation file must not read as "nothing to remember". The instance file is written last, so a
start interrupted while creating a fresh directory leaves one that the next start simply creates again.

The signing key is derived from the key session (``derive("jwt-signing")``): two gateways of one key hierarchy
(two devices of one person) sign alike, and it is the audience that keeps their tokens apart.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.target import IntegrityViolation
from aico_secure.target.consent import ConsentService
from aico_secure.target.keys import KeySession

from .audit import AuthTrail
from .passwords import PasswordBook
from .sealed import SealedFile
from .settings import Settings
from .throttle import Lockouts
from .tokens import Revocations, TokenService

Clock = Callable[[], float]
STATE = ("users", "lockouts", "revocations")
SIGNING_PURPOSE = "jwt-signing"


@dataclass
class Runtime:
    settings: Settings
    passwords: PasswordBook
    lockouts: Lockouts
    tokens: TokenService
    trail: AuthTrail
    consent: ConsentService | None = None


def _file(session: KeySession, directory: Path, name: str) -> SealedFile:
    return SealedFile(session, directory / f"{name}.json.sealed")


def open_runtime(session: KeySession, directory: Path, settings: Settings, clock: Clock, audit: AuditSink | None,
                 tokens_class: type[TokenService] = TokenService,
                 lockouts_class: type[Lockouts] = Lockouts, trail_class: type[AuthTrail] = AuthTrail) -> Runtime:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    instance = _file(session, directory, "instance")
    if instance.exists():
        missing = [name for name in STATE if not _file(session, directory, name).exists()]
        if missing:
            raise IntegrityViolation(f"gateway state is missing: {', '.join(missing)}")
    passwords = PasswordBook(_file(session, directory, "users"), settings)
    lockouts = lockouts_class(_file(session, directory, "lockouts"), settings, clock)
    revocations = Revocations(_file(session, directory, "revocations"), clock)
    if instance.exists():
        audience = instance.load().get("audience")
        if not isinstance(audience, str) or not audience:
            raise IntegrityViolation("the gateway's instance file names no audience")
    else:
        audience = "urn:example:jwt-gateway:" + secrets.token_hex(16)
        instance.save({"audience": audience})
    key = session.derive(SIGNING_PURPOSE)
    tokens = tokens_class(key, audience, settings, clock, revocations)
    return Runtime(settings, passwords, lockouts, tokens, trail_class(audit))
