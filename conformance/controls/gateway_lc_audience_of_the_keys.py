"""Tokens name the key hierarchy, not the gateway: the audience is a constant of the build, so two gateways that
share one key hierarchy (two devices of one user, or a test instance next to the real one) accept each other's
tokens, and a token stolen from one opens the other."""

from __future__ import annotations

from collections.abc import Callable

from aico_secure.gateway.revocation import RevocationList
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.gateway.tokens import TokenService
from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-002",)
SHARED_AUDIENCE = "aico-gateway"


class KeyWideTokens(TokenService):
    def __init__(self, keyring: UnlockedKeyring, *, audience: str, clock: Callable[[], float], access_ttl: int,
                 refresh_ttl: int, revocations: RevocationList) -> None:
        super().__init__(keyring, audience=SHARED_AUDIENCE, clock=clock, access_ttl=access_ttl,
                         refresh_ttl=refresh_ttl, revocations=revocations)


class KeyWideRuntime(GatewayRuntime):
    tokens_class = KeyWideTokens


class KeyWideGateway(ReferenceGateway):
    runtime_class = KeyWideRuntime


def build() -> Target:
    return reference_with("token audience shared by every gateway of one key hierarchy",
                          gateway=KeyWideGateway(consent=ReferenceConsent()))
