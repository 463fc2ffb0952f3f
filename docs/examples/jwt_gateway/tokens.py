"""Session tokens: HS256 JWTs (PyJWT) with the algorithm pinned and every claim the gateway relies on required.

Claims: ``iss`` (this software), ``aud`` (this gateway instance: a random id kept in its directory, so two
gateways sharing one key hierarchy refuse each other's tokens), ``sub`` (user), ``sid`` (login session),
``jti`` (token id), ``iat``/``exp``, and the token's use (``use`` claim and ``typ`` header: ``at+jwt`` for
access tokens as RFC 9068 has it, ``rt+jwt`` for refresh tokens), checked on every token, so neither type works
where the other is wanted. Expiry is checked against the gateway's clock (an injected one in tests), so PyJWT's
own wall-clock checks are off and ``exp`` is compared here: a token is refused from the instant ``exp`` on.

Refresh tokens are single use: each one's ``jti`` is recorded as spent before the new pair is handed out, and a
spent one presented again revokes its whole session (someone else holds a copy). Logout revokes the session.
Revocations and spent ids are sealed on disk before the answer and pruned once every token they cover expired.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from .sealed import SealedFile
from .settings import Settings

Clock = Callable[[], float]
ACCESS, REFRESH = "access", "refresh"
TYP = {ACCESS: "at+jwt", REFRESH: "rt+jwt"}
REQUIRED = ["iss", "aud", "sub", "sid", "jti", "iat", "exp", "use"]


class TokenRefused(Exception):
    """The token is not one this gateway accepts here (damaged, wrong type or audience, expired, revoked)."""


class RefreshReused(TokenRefused):
    """A spent refresh token came back: its session is revoked."""

    def __init__(self, subject: str) -> None:
        super().__init__("refresh token already used; the session is revoked")
        self.subject = subject


@dataclass(frozen=True)
class Pair:
    access: str
    refresh: str
    access_ttl: int
    refresh_ttl: int


class Revocations:
    """Revoked sessions and spent refresh-token ids, each with the instant after which it no longer matters."""

    def __init__(self, file: SealedFile, clock: Clock) -> None:
        self._file, self._clock = file, clock
        self._lock = threading.Lock()
        self.sessions: dict[str, float] = {}
        self.spent: dict[str, float] = {}
        if file.exists():
            document = file.load()
            self.sessions = {str(k): float(v) for k, v in document.get("sessions", {}).items()}
            self.spent = {str(k): float(v) for k, v in document.get("spent", {}).items()}
        else:
            self._save()

    def __repr__(self) -> str:
        return f"Revocations({len(self.sessions)} sessions, {len(self.spent)} spent)"

    def _save(self) -> None:
        now = self._clock()
        self.sessions = {k: v for k, v in self.sessions.items() if v > now}
        self.spent = {k: v for k, v in self.spent.items() if v > now}
        self._file.save({"sessions": self.sessions, "spent": self.spent})

    def session_revoked(self, sid: str) -> bool:
        return sid in self.sessions

    def revoke_session(self, sid: str, until: float) -> None:
        with self._lock:
            self.sessions[sid] = max(until, self.sessions.get(sid, 0.0))
            self._save()

    def spend(self, jti: str, until: float) -> bool:
        """Record a refresh token as used; False if it already was."""
        with self._lock:
            if jti in self.spent:
                return False
            self.spent[jti] = until
            self._save()
            return True


class TokenService:
    algorithm = "HS256"
    decode_options: dict[str, Any] = {"require": REQUIRED, "verify_exp": False, "verify_iat": False,
                                      "verify_nbf": False}

    def __init__(self, key: bytes, audience: str, settings: Settings, clock: Clock,
                 revocations: Revocations) -> None:
        self._key = key
        self.audience = audience
        self._settings = settings
        self._clock = clock
        self.revocations = revocations

    def __repr__(self) -> str:
        return f"TokenService(aud={self.audience!r})"

    def _encode(self, use: str, subject: str, sid: str, ttl: int) -> str:
        now = self._clock()
        claims = {"iss": self._settings.issuer, "aud": self.audience, "sub": subject, "sid": sid,
                  "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + ttl, "use": use}
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers={"typ": TYP[use]})

    def issue(self, subject: str, sid: str | None = None) -> Pair:
        sid = sid or secrets.token_urlsafe(16)
        return Pair(self._encode(ACCESS, subject, sid, self._settings.access_ttl),
                    self._encode(REFRESH, subject, sid, self._settings.refresh_ttl),
                    self._settings.access_ttl, self._settings.refresh_ttl)

    def check_use(self, header: dict[str, Any], claims: dict[str, Any], expected: str) -> None:
        if header.get("typ") != TYP[expected] or claims.get("use") != expected:
            raise TokenRefused(f"not an {expected} token" if expected == ACCESS else f"not a {expected} token")

    def decode(self, token: str, expected: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, self._key, algorithms=[self.algorithm], audience=self.audience,
                                issuer=self._settings.issuer, options=self.decode_options)  # type: ignore[arg-type]
        except jwt.PyJWTError:
            raise TokenRefused("invalid token") from None
        self.check_use(header, claims, expected)
        exp, iat = claims["exp"], claims["iat"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (exp, iat)):
            raise TokenRefused("invalid token")
        if self._clock() >= exp:
            raise TokenRefused("token expired")
        if not all(isinstance(claims[k], str) for k in ("sub", "sid", "jti")):
            raise TokenRefused("invalid token")
        if self.revocations.session_revoked(claims["sid"]):
            raise TokenRefused("token revoked")
        return claims

    def refresh(self, token: str) -> tuple[dict[str, Any], Pair]:
        claims = self.decode(token, REFRESH)
        if not self.revocations.spend(claims["jti"], float(claims["exp"])):
            self.revoke(claims["sid"])
            raise RefreshReused(claims["sub"])
        return claims, self.issue(claims["sub"], claims["sid"])

    def revoke(self, sid: str) -> None:
        """Every token of the session is refused from now on; a session's tokens all expire within one refresh
        lifetime from now (no new ones are issued for it), so that is how long the entry is kept."""
        self.revocations.revoke_session(sid, self._clock() + self._settings.refresh_ttl)
