"""The SRP login flow: challenge, then proof, with throttling checked before any password verification.

Order of checks on both steps: request rate (``limits``), then identity and address lockout, and only then any
modular exponentiation or proof check. The proof step holds the guard's lock across check, verification and
recording, so concurrent guesses cannot slip past a lock that the first of them would have triggered.

Unknown users get a challenge indistinguishable from a real one (a salt and verifier derived with a keyed hash
of the name, stable across requests), and their failures count like any other, so the gateway does not reveal
who is enrolled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from aico_secure.gateway.auditing import GatewayAudit
from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.ratelimit import AuthGuard, RequestRates
from aico_secure.gateway.srp import DEFAULT_GROUP, MIN_SALT_BYTES, SrpServerSession
from aico_secure.gateway.tokens import TokenPair, TokenService
from aico_secure.gateway.users import UserStore
from aico_secure.gateway.validation import RequestRejected
from aico_secure.sensitive import SecretBytes


@dataclass(repr=False)
class _Pending:
    username: str
    known: bool
    session: SrpServerSession
    expires: float


@dataclass(frozen=True)
class Challenge:
    challenge_id: str
    salt: bytes
    server_public: int


@dataclass(frozen=True, repr=False)
class LoginResult:
    username: str
    server_proof: bytes
    tokens: TokenPair


def _too_many(seconds: float, detail: str) -> RequestRejected:
    return RequestRejected(429, "too_many_requests", detail, retry_after=seconds)


class LoginService:
    def __init__(self, *, users: UserStore, guard: AuthGuard, rates: RequestRates, tokens: TokenService,
                 audit: GatewayAudit, clock: Callable[[], float], config: GatewayConfig,
                 decoy_key: SecretBytes) -> None:
        self._users, self._guard, self._rates, self._tokens = users, guard, rates, tokens
        self._audit, self._clock, self._config = audit, clock, config
        self._decoy_key = decoy_key
        self._pending: dict[str, _Pending] = {}
        self._pending_lock = threading.Lock()
        self.verifications = 0  # test hook: proofs checked (the expensive, password-dependent step)

    def __repr__(self) -> str:
        return f"LoginService({len(self._pending)} pending challenges, {self.verifications} verifications)"

    # ---- step 1 ---------------------------------------------------------------------------------------------
    def _decoy(self, username: str) -> tuple[bytes, int]:
        """A stable fake (salt, verifier) for a name that is not enrolled."""
        mac = hmac.new(self._decoy_key.reveal(), b"decoy\x00" + username.encode(), hashlib.sha256).digest()
        exponent = int.from_bytes(hmac.new(self._decoy_key.reveal(), b"x\x00" + mac, hashlib.sha256).digest(), "big")
        return mac[:MIN_SALT_BYTES], pow(DEFAULT_GROUP.g, exponent, DEFAULT_GROUP.N)

    def _throttle(self, username: str, address: str) -> None:
        wait = self._rates.auth_attempt(username, address)
        if wait:
            self._audit.login(username, address, "denied", "rate_limited")
            raise _too_many(wait, "too many authentication requests; slow down")
        with self._guard.lock:
            wait = self._guard.retry_after(username, address)
        if wait:
            self._audit.login(username, address, "denied", "locked_out")
            raise _too_many(wait, "too many failed attempts; locked out for now")

    def challenge(self, username: str, address: str) -> Challenge:
        self._throttle(username, address)
        now = self._clock()
        with self._pending_lock:
            self._pending = {k: p for k, p in self._pending.items() if p.expires > now}
            open_for_user = sum(1 for p in self._pending.values() if p.username == username)
            if open_for_user >= self._config.max_pending_per_identity:
                raise _too_many(self._config.challenge_ttl, "too many open challenges for this user")
            if len(self._pending) >= self._config.max_pending_challenges:
                raise RequestRejected(503, "service_unavailable", "too many open challenges; try again later",
                                      retry_after=self._config.challenge_ttl)
        credential = self._users.lookup(username)
        salt, verifier = (credential.salt, credential.verifier) if credential else self._decoy(username)
        session = SrpServerSession(DEFAULT_GROUP, username, salt, verifier)
        challenge_id = secrets.token_urlsafe(24)
        with self._pending_lock:
            self._pending[challenge_id] = _Pending(username, credential is not None, session,
                                                   now + self._config.challenge_ttl)
        return Challenge(challenge_id, salt, session.server_public)

    # ---- step 2 ---------------------------------------------------------------------------------------------
    def verify(self, challenge_id: str, client_public: int, client_proof: bytes, address: str) -> LoginResult:
        with self._pending_lock:
            pending = self._pending.pop(challenge_id, None)
        if pending is None or pending.expires <= self._clock():
            raise RequestRejected(401, "unauthorized", "unknown or expired challenge")
        username = pending.username
        with self._guard.lock:
            wait = self._guard.retry_after(username, address)
            if not wait:
                self.verifications += 1
                server_proof = pending.session.verify(client_public, client_proof)
                ok = server_proof is not None and pending.known
                locks = {} if ok else self._guard.failed(username, address)
                if ok:
                    self._guard.succeeded(username)
        if wait:
            self._audit.login(username, address, "denied", "locked_out")
            raise _too_many(wait, "too many failed attempts; locked out for now")
        if not ok or server_proof is None:
            self._audit.login(username, address, "failure", "bad_proof")
            for kind, seconds in locks.items():
                self._audit.lockout(kind, username, address, seconds)
            raise RequestRejected(401, "unauthorized", "authentication failed")
        self._audit.login(username, address, "success", "srp")
        return LoginResult(username, server_proof, self._tokens.issue(username))
