"""The composition root: one running gateway's services, built from a keyring, a directory and a config.

Kept apart from the routes (``app``) and the server (``server``) so tests and tools can build the same object
graph, and so the one place that decides what talks to what is short enough to read.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.gateway.auditing import GatewayAudit
from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.login import LoginService
from aico_secure.gateway.ratelimit import AuthGuard, RequestRates
from aico_secure.gateway.revocation import RevocationList
from aico_secure.gateway.state import GatewayState, open_state
from aico_secure.gateway.tokens import TokenService
from aico_secure.gateway.users import UserStore
from aico_secure.keys import UnlockedKeyring
from aico_secure.sensitive import SecretBytes
from aico_secure.target.consent import ConsentService

Clock = Callable[[], float]


class GatewayRuntime:
    """Component classes are attributes so a variant (a test double, a negative control) swaps one part
    without restating the wiring."""

    users_class: type[UserStore] = UserStore
    revocations_class: type[RevocationList] = RevocationList
    tokens_class: type[TokenService] = TokenService
    guard_class: type[AuthGuard] = AuthGuard

    def __init__(self, keyring: UnlockedKeyring, directory: Path, *, config: GatewayConfig | None = None,
                 audit: AuditSink | None = None, clock: Clock | None = None,
                 consent: ConsentService | None = None) -> None:
        """``consent`` guards the data routes; without one they refuse every request (fail closed)."""
        self.config = config or GatewayConfig()
        self.clock: Clock = clock or time.time
        self.state: GatewayState = open_state(keyring, directory, self.clock, users_class=self.users_class,
                                              revocations_class=self.revocations_class)
        self.audit = GatewayAudit(audit)
        self.rates = RequestRates(self.config)
        self.guard = self.guard_class(self.config, self.clock, store=self.state.lockouts)
        self.tokens = self.tokens_class(keyring, audience=self.state.audience, clock=self.clock,
                                   access_ttl=self.config.access_ttl, refresh_ttl=self.config.refresh_ttl,
                                   revocations=self.state.revocations)
        self.login = LoginService(users=self.state.users, guard=self.guard, rates=self.rates, tokens=self.tokens,
                                  audit=self.audit, clock=self.clock, config=self.config,
                                  decoy_key=keyring.derive("gateway"))
        self.consent = consent
        self._enrolment = SecretBytes(secrets.token_urlsafe(32).encode())

    def __repr__(self) -> str:
        return f"GatewayRuntime({self.state.directory}, audience={self.state.audience!r})"

    def client_address(self, host: str, port: int) -> str:
        """The address rate limits and lockouts count by: the client's IP, never its port (a new connection
        must not be a new client)."""
        return host

    def enrolment_token(self) -> str:
        """The per-process credential that authorises enrolment (held in memory only, never written)."""
        return self._enrolment.reveal().decode()

    def is_enrolment_token(self, presented: str) -> bool:
        return hmac.compare_digest(presented.encode(), self._enrolment.reveal())
