"""Short-lived access tokens and rotating refresh tokens, sealed with the gateway's data key.

Why sealed (AEAD) rather than a signed JWT: the envelope is the project's one safe way to use a key from the
hierarchy, it has no algorithm header to confuse, the claims are unreadable to clients, and the token's type and
audience are bound into the associated data, so a refresh token presented as an access token (or a token of
another gateway) fails authentication before any claim is read. The claims repeat type and audience and are
checked again: two independent checks for the rule that matters most.

Token text: ``aico1.`` + base64url(envelope). Claims: ``typ`` (access|refresh), ``aud``, ``sub`` (user), ``sid``
(login session), ``jti`` (token id), ``iat``, ``exp``. Refresh tokens are single use: using one revokes it and
returns a new pair; presenting a used one again is treated as theft and revokes the whole session.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aico_secure import envelope
from aico_secure.envelope import RecordContext
from aico_secure.errors import AicoSecureError
from aico_secure.gateway.errors import RefreshReplayed, TokenRejected
from aico_secure.gateway.revocation import RevocationList
from aico_secure.gateway.sealed import PURPOSE
from aico_secure.keys import UnlockedKeyring

TokenType = Literal["access", "refresh"]
PREFIX = "aico1."
MAX_TOKEN_CHARS = 2048
CLOCK_SKEW = 30.0
_TOKEN = re.compile(r"^aico1\.[A-Za-z0-9_-]{40,2000}$")


@dataclass(frozen=True)
class TokenClaims:
    typ: TokenType
    aud: str
    sub: str
    sid: str
    jti: str
    iat: int
    exp: int


@dataclass(frozen=True, repr=False)
class TokenPair:
    access: str
    refresh: str
    access_expires_in: int
    refresh_expires_in: int
    session_id: str

    def __repr__(self) -> str:
        return f"TokenPair(session_id={self.session_id!r}, <tokens redacted>)"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenService:
    def __init__(self, keyring: UnlockedKeyring, *, audience: str, clock: Callable[[], float],
                 access_ttl: int, refresh_ttl: int, revocations: RevocationList) -> None:
        self._keyring = keyring
        self.audience = audience
        self._clock = clock
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._revocations = revocations
        self._refresh_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenService(audience={self.audience!r})"

    def _context(self, typ: TokenType) -> RecordContext:
        return RecordContext(store="gateway", collection=f"token:{typ}", record_key=self.audience.encode())

    def _mint(self, typ: TokenType, subject: str, session_id: str, now: int) -> str:
        ttl = self.access_ttl if typ == "access" else self.refresh_ttl
        claims = {"typ": typ, "aud": self.audience, "sub": subject, "sid": session_id,
                  "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + ttl}
        plain = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
        return PREFIX + _b64(envelope.seal(self._keyring.active_data_key(PURPOSE), plain, self._context(typ)))

    def issue(self, subject: str, session_id: str | None = None) -> TokenPair:
        now = int(self._clock())
        sid = session_id or secrets.token_urlsafe(16)
        return TokenPair(self._mint("access", subject, sid, now), self._mint("refresh", subject, sid, now),
                         self.access_ttl, self.refresh_ttl, sid)

    def verify(self, token: str, expected: TokenType) -> TokenClaims:
        """The claims of a valid, unexpired, unrevoked ``expected``-type token for this audience."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not _TOKEN.match(token):
            raise TokenRejected("malformed token")
        try:
            sealed = _unb64(token[len(PREFIX):])
            plain = envelope.open_with(lambda kid: self._keyring.data_key(PURPOSE, kid), sealed,
                                       self._context(expected))
            raw = json.loads(plain)
        except (binascii.Error, ValueError, RecursionError, AicoSecureError):  # RecursionError: claims nested too deep
            raise TokenRejected(f"not a valid {expected} token for this gateway") from None
        claims = self._claims(raw)
        if claims.typ != expected or claims.aud != self.audience:
            raise TokenRejected(f"not a valid {expected} token for this gateway")
        now = self._clock()
        if claims.exp <= now:
            raise TokenRejected("token expired")
        if claims.iat > now + CLOCK_SKEW:
            raise TokenRejected("token issued in the future")
        if self._revocations.is_revoked("sid:" + claims.sid) or self._revocations.is_revoked("jti:" + claims.jti):
            raise TokenRejected("token was revoked")
        return claims

    @staticmethod
    def _claims(raw: object) -> TokenClaims:
        if not isinstance(raw, dict) or set(raw) != {"typ", "aud", "sub", "sid", "jti", "iat", "exp"}:
            raise TokenRejected("token claims are malformed")
        texts = [raw[k] for k in ("typ", "aud", "sub", "sid", "jti")]
        if not all(isinstance(v, str) for v in texts) or not all(type(raw[k]) is int for k in ("iat", "exp")):
            raise TokenRejected("token claims are malformed")
        if raw["typ"] not in ("access", "refresh"):
            raise TokenRejected("token claims are malformed")
        return TokenClaims(raw["typ"], raw["aud"], raw["sub"], raw["sid"], raw["jti"], raw["iat"], raw["exp"])

    def refresh(self, refresh_token: str) -> tuple[TokenClaims, TokenPair]:
        """Spend a refresh token for a new pair in the same session. A spent token shown again revokes the
        session (someone else holds a copy)."""
        with self._refresh_lock:
            try:
                claims = self.verify(refresh_token, "refresh")
            except TokenRejected:
                replayed = self._revoke_session_of_replayed(refresh_token)
                if replayed is not None:
                    raise RefreshReplayed(replayed) from None
                raise
            self._revocations.revoke("jti:" + claims.jti, claims.exp)
            return claims, self.issue(claims.sub, claims.sid)

    def _revoke_session_of_replayed(self, refresh_token: str) -> str | None:
        """If ``refresh_token`` is authentic, unexpired and already spent, revoke its session and return its
        user; otherwise None."""
        try:
            sealed = _unb64(refresh_token[len(PREFIX):])
            raw = json.loads(envelope.open_with(lambda kid: self._keyring.data_key(PURPOSE, kid), sealed,
                                                self._context("refresh")))
            claims = self._claims(raw)
        except (binascii.Error, ValueError, RecursionError, AicoSecureError, TokenRejected):
            return None
        if self._revocations.is_revoked("jti:" + claims.jti) and claims.exp > self._clock() \
                and claims.aud == self.audience:
            self.revoke_session(claims.sid)
            return claims.sub
        return None

    def revoke_session(self, session_id: str) -> None:
        """Every token of the session, access and refresh, is refused from now on (and after a restart)."""
        self._revocations.revoke("sid:" + session_id, self._clock() + self.refresh_ttl + CLOCK_SKEW)
