"""Lockout is checked when a challenge is issued but not when its proof arrives: challenges taken before the
lock carry guesses past it, each one verified."""

from __future__ import annotations

from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.login import LoginResult, LoginService
from aico_secure.gateway.runtime import Clock, GatewayRuntime
from aico_secure.gateway.validation import RequestRejected
from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target
from aico_secure.target.consent import ConsentService

from ._base import reference_with

BREAKS = ("AICO-GW-003",)


class ChallengeOnlyLockout(LoginService):
    def verify(self, challenge_id: str, client_public: int, client_proof: bytes, address: str) -> LoginResult:
        with self._pending_lock:
            pending = self._pending.pop(challenge_id, None)
        if pending is None or pending.expires <= self._clock():
            raise RequestRejected(401, "unauthorized", "unknown or expired challenge")
        username = pending.username
        with self._guard.lock:  # the lock is held, but the lockout is not looked at: it was, at the challenge
            self.verifications += 1
            server_proof = pending.session.verify(client_public, client_proof)
            ok = server_proof is not None and pending.known
            locks = {} if ok else self._guard.failed(username, address)
            if ok:
                self._guard.succeeded(username)
        if not ok or server_proof is None:
            self._audit.login(username, address, "failure", "bad_proof")
            for kind, seconds in locks.items():
                self._audit.lockout(kind, username, address, seconds)
            raise RequestRejected(401, "unauthorized", "authentication failed")
        self._audit.login(username, address, "success", "srp")
        return LoginResult(username, server_proof, self._tokens.issue(username))


class ChallengeOnlyRuntime(GatewayRuntime):
    def __init__(self, keyring: UnlockedKeyring, directory: Path, *, config: GatewayConfig | None = None,
                 audit: AuditSink | None = None, clock: Clock | None = None,
                 consent: ConsentService | None = None) -> None:
        super().__init__(keyring, directory, config=config, audit=audit, clock=clock, consent=consent)
        self.login = ChallengeOnlyLockout(users=self.state.users, guard=self.guard, rates=self.rates,
                                          tokens=self.tokens, audit=self.audit, clock=self.clock,
                                          config=self.config, decoy_key=keyring.derive("gateway"))


class ChallengeOnlyGateway(ReferenceGateway):
    runtime_class = ChallengeOnlyRuntime


def build() -> Target:
    return reference_with("lockout checked at challenge, not at proof",
                          gateway=ChallengeOnlyGateway(consent=ReferenceConsent()))
