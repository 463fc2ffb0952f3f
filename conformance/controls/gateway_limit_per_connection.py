"""Authentication failures are counted per connection: the limiter keys its counters by the client's address
*and port*, so every new connection (a new source port) starts with a clean slate and an attacker who
reconnects for each guess is never locked out."""

from __future__ import annotations

from aico_secure.gateway.ratelimit import AuthGuard
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-003",)


class PerConnectionGuard(AuthGuard):
    """Identity counters are per connection too: the identity key carries the connection's address:port."""

    def retry_after(self, identity: str, address: str) -> float:
        return super().retry_after(f"{identity}@{address}", address)

    def failed(self, identity: str, address: str) -> dict[str, float]:
        return super().failed(f"{identity}@{address}", address)


class PerConnectionRuntime(GatewayRuntime):
    guard_class = PerConnectionGuard

    def client_address(self, host: str, port: int) -> str:
        return f"{host}:{port}"


class PerConnectionGateway(ReferenceGateway):
    runtime_class = PerConnectionRuntime


def build() -> Target:
    return reference_with("rate limit that resets per connection",
                          gateway=PerConnectionGateway(consent=ReferenceConsent()))
