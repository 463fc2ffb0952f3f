"""A damaged lockout file is "healed" by starting over: when the sealed failure counts do not open, the gateway
writes a fresh, empty lockout file and starts, so whoever can corrupt one byte of it unlocks every identity
and gets a full set of new guesses."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.errors import GatewayStateError
from aico_secure.gateway.lockouts import LockoutStore
from aico_secure.gateway.ratelimit import AuthGuard
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-003",)


def _discard(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class SelfHealingGuard(AuthGuard):
    def __init__(self, config: GatewayConfig, clock: Callable[[], float], store: LockoutStore | None = None) -> None:
        if store is not None and store.exists():
            try:
                store.load()
            except GatewayStateError:
                _discard(store._file.path)
                store.create()
        super().__init__(config, clock, store=store)


class SelfHealingRuntime(GatewayRuntime):
    guard_class = SelfHealingGuard


class SelfHealingGateway(ReferenceGateway):
    runtime_class = SelfHealingRuntime


def build() -> Target:
    return reference_with("damaged lockout file silently reset",
                          gateway=SelfHealingGateway(consent=ReferenceConsent()))
