"""Failure counts and locks live in memory only: a guesser who makes the gateway restart (crash, update, reboot)
gets a fresh set of guesses every time, and a locked identity is unlocked by the restart."""

from __future__ import annotations

from collections.abc import Callable

from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.lockouts import LockoutStore
from aico_secure.gateway.ratelimit import AuthGuard
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-003",)


class MemoryGuard(AuthGuard):
    def __init__(self, config: GatewayConfig, clock: Callable[[], float], store: LockoutStore | None = None) -> None:
        super().__init__(config, clock, store=None)


class ForgetfulLockoutRuntime(GatewayRuntime):
    guard_class = MemoryGuard


class ForgetfulLockoutGateway(ReferenceGateway):
    runtime_class = ForgetfulLockoutRuntime


def build() -> Target:
    return reference_with("lockouts kept in memory only",
                          gateway=ForgetfulLockoutGateway(consent=ReferenceConsent()))
