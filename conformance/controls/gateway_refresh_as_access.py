"""A refresh token is accepted wherever an access token is wanted: the gateway checks the token's seal and
expiry but falls back to the refresh type when the access check fails, so a long-lived refresh token works as
an access token for its whole life."""

from __future__ import annotations

from aico_secure.gateway.errors import TokenRejected
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.gateway.tokens import TokenClaims, TokenService, TokenType
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-002",)


class AnyTypeTokens(TokenService):
    def verify(self, token: str, expected: TokenType) -> TokenClaims:
        try:
            return super().verify(token, expected)
        except TokenRejected:
            if expected != "access":
                raise
            return super().verify(token, "refresh")


class AnyTypeRuntime(GatewayRuntime):
    tokens_class = AnyTypeTokens


class AnyTypeGateway(ReferenceGateway):
    runtime_class = AnyTypeRuntime


def build() -> Target:
    return reference_with("refresh token accepted as access token", gateway=AnyTypeGateway(consent=ReferenceConsent()))
