"""Token expiry is enforced only where an access token is checked: a refresh token keeps working after its own
lifetime, because the refresh path relies on the (longer-ago) access-token lifetime check never reaching it."""

from __future__ import annotations

import binascii
import json

from aico_secure import envelope
from aico_secure.errors import AicoSecureError
from aico_secure.gateway.errors import TokenRejected
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.gateway.sealed import PURPOSE
from aico_secure.gateway.tokens import (
    _TOKEN,
    CLOCK_SKEW,
    MAX_TOKEN_CHARS,
    PREFIX,
    TokenClaims,
    TokenService,
    TokenType,
    _unb64,
)
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-002",)


class AccessOnlyExpiry(TokenService):
    def verify(self, token: str, expected: TokenType) -> TokenClaims:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not _TOKEN.match(token):
            raise TokenRejected("malformed token")
        try:
            sealed = _unb64(token[len(PREFIX):])
            raw = json.loads(envelope.open_with(lambda kid: self._keyring.data_key(PURPOSE, kid), sealed,
                                                self._context(expected)))
        except (binascii.Error, ValueError, AicoSecureError):
            raise TokenRejected(f"not a valid {expected} token for this gateway") from None
        claims = self._claims(raw)
        if claims.typ != expected or claims.aud != self.audience:
            raise TokenRejected(f"not a valid {expected} token for this gateway")
        now = self._clock()
        if expected == "access" and claims.exp <= now:
            raise TokenRejected("token expired")
        if claims.iat > now + CLOCK_SKEW:
            raise TokenRejected("token issued in the future")
        if self._revocations.is_revoked("sid:" + claims.sid) or self._revocations.is_revoked("jti:" + claims.jti):
            raise TokenRejected("token was revoked")
        return claims


class AccessOnlyExpiryRuntime(GatewayRuntime):
    tokens_class = AccessOnlyExpiry


class AccessOnlyExpiryGateway(ReferenceGateway):
    runtime_class = AccessOnlyExpiryRuntime


def build() -> Target:
    return reference_with("refresh token accepted after its own expiry",
                          gateway=AccessOnlyExpiryGateway(consent=ReferenceConsent()))
