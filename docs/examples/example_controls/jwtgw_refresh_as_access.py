"""The JWT gateway example checks a token's signature, audience, issuer, expiry and revocation but not what it is
for: the ``typ`` header and ``use`` claim are never compared, so a refresh token (a day's lifetime) opens every
route an access token does."""

from __future__ import annotations

from typing import Any

from jwt_gateway import service, tokens

from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.keys import ReferenceKeys
from aico_secure.target import Target

BREAKS = ("AICO-GW-002",)


class UntypedTokens(tokens.TokenService):
    def check_use(self, header: dict[str, Any], claims: dict[str, Any], expected: str) -> None:
        return None


class UntypedGateway(service.JwtGateway):
    tokens_class = UntypedTokens


def build() -> Target:
    return Target(name="negative control: JWT use not checked", version="0", keys=ReferenceKeys(),
                  gateway=UntypedGateway(consent=ReferenceConsent()))
