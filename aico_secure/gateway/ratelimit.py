"""Throttling of authentication: lockout with exponential backoff per identity and per client address, plus
request-rate limits.

Two mechanisms, because they answer different questions:

* ``Lockout`` counts *failed password verifications*. After ``threshold`` failures the key is locked for
  ``base`` seconds; every further failure after a lock ends locks it again for twice as long (up to ``max``).
  A success clears an identity (the owner proved the password) but never an address: otherwise an attacker with
  an account of their own could reset their address between guesses at other users. It runs on the injectable
  clock so tests can step through lock periods. The ``limits`` package has no notion of failure-driven lockout
  or backoff and reads the wall clock directly, so this part is written here (a small state machine).
* ``RequestRates`` uses ``limits`` (moving window, in memory) to cap how fast any address or identity may even
  *ask* for a challenge, so a flood cannot buy expensive modular exponentiations.

The guard is consulted before any verification, under one lock together with the verification and the
recording of its outcome (``AuthGuard.lock``): concurrent guesses cannot all pass the check before the first
failure is counted.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.lockouts import LockoutStore, Snapshot

MAX_TRACKED_KEYS = 10_000  # per kind; also bounds the sealed lockout file rewritten on every failure


def address_key(host: str) -> str:
    """The unit an address limit applies to: one IPv4 address, or one IPv6 /64 (a host's usual allocation, so
    rotating through its own addresses does not reset the count)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "host:" + host[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "ip:" + str(ip.ipv4_mapped)
        return "net:" + str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return "ip:" + str(ip)


@dataclass
class _Record:
    failures: int = 0
    lockouts: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0


@dataclass(frozen=True)
class LockoutRule:
    threshold: int
    base_seconds: float
    max_seconds: float
    forget_after: float


class Lockout:
    """Failure counts and locks for one kind of key. Not thread-safe on its own: ``AuthGuard`` serialises."""

    def __init__(self, rule: LockoutRule, clock: Callable[[], float]) -> None:
        self.rule = rule
        self._clock = clock
        self._records: dict[str, _Record] = {}

    def _current(self, key: str, now: float) -> _Record | None:
        record = self._records.get(key)
        if record and record.locked_until <= now and now - record.last_failure > self.rule.forget_after:
            del self._records[key]
            return None
        return record

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        now = self._clock()
        record = self._current(key, now)
        return max(0.0, record.locked_until - now) if record else 0.0

    def failure(self, key: str) -> float:
        """Count one failure; the lock it triggers in seconds, or 0."""
        now = self._clock()
        record = self._current(key, now) or self._records.setdefault(key, _Record())
        record.failures += 1
        record.last_failure = now
        if record.failures < self.rule.threshold:
            self._bound()
            return 0.0
        duration = float(min(self.rule.base_seconds * 2.0 ** record.lockouts, self.rule.max_seconds))
        record.lockouts += 1
        record.locked_until = now + duration
        return duration

    def clear(self, key: str) -> bool:
        """Forget ``key``; whether there was anything to forget."""
        return self._records.pop(key, None) is not None

    def snapshot(self) -> Snapshot:
        return {k: (r.failures, r.lockouts, r.locked_until, r.last_failure) for k, r in self._records.items()}

    def restore(self, snapshot: Snapshot) -> None:
        self._records = {k: _Record(*values) for k, values in snapshot.items()}
        self._bound()

    def _bound(self) -> None:
        """Keep memory bounded under a spray of made-up identities: drop forgotten records, then the oldest
        unlocked ones. Locked keys are never dropped."""
        if len(self._records) <= MAX_TRACKED_KEYS:
            return
        now = self._clock()
        for key in list(self._records):
            self._current(key, now)
        if len(self._records) > MAX_TRACKED_KEYS:
            unlocked = sorted((r.last_failure, k) for k, r in self._records.items() if r.locked_until <= now)
            for _, key in unlocked[: len(self._records) - MAX_TRACKED_KEYS]:
                del self._records[key]


class RequestRates:
    """Wall-clock request-rate limits (``limits``, moving window): a request over the rate is refused at once."""

    def __init__(self, config: GatewayConfig) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_address = parse(config.auth_rate_per_address)
        self._per_identity = parse(config.auth_rate_per_identity)
        self._per_user = parse(config.api_rate_per_user)

    def _hit(self, item: RateLimitItem, *ids: str) -> float:
        if self._limiter.hit(item, *ids):
            return 0.0
        reset = self._limiter.get_window_stats(item, *ids).reset_time
        return max(1.0, reset - time.time())

    def auth_attempt(self, identity: str, address: str) -> float:
        """A login challenge: counts against the client address and the identity."""
        return max(self.address_attempt(address), self._hit(self._per_identity, "auth-identity", identity))

    def address_attempt(self, address: str) -> float:
        """An unauthenticated request not tied to one identity (refresh, refused enrolment)."""
        return self._hit(self._per_address, "auth-address", address_key(address))

    def api_call(self, user: str) -> float:
        return self._hit(self._per_user, "api-user", user)


class AuthGuard:
    """Identity and address lockouts together. Callers hold ``lock`` around check, verification and record.

    With a ``store``, the state is loaded from it at start and saved to it on every change before the change
    is acknowledged (``lockouts``), so a restart keeps failure counts and locks."""

    def __init__(self, config: GatewayConfig, clock: Callable[[], float], store: LockoutStore | None = None) -> None:
        self.lock = threading.Lock()
        self.identities = Lockout(LockoutRule(config.identity_failure_threshold, config.lockout_base_seconds,
                                              config.lockout_max_seconds, config.failure_memory_seconds), clock)
        self.addresses = Lockout(LockoutRule(config.address_failure_threshold, config.lockout_base_seconds,
                                             config.lockout_max_seconds, config.failure_memory_seconds), clock)
        self._store = store
        if store is not None and store.exists():
            tables = store.load()
            self.identities.restore(tables["identity"])
            self.addresses.restore(tables["address"])

    def _save(self) -> None:
        if self._store is not None:
            self._store.save({"identity": self.identities.snapshot(), "address": self.addresses.snapshot()})

    def retry_after(self, identity: str, address: str) -> float:
        return max(self.identities.retry_after(identity), self.addresses.retry_after(address_key(address)))

    def failed(self, identity: str, address: str) -> dict[str, float]:
        """Count a failed verification; the locks it triggered, by kind ("identity", "address")."""
        locks = {"identity": self.identities.failure(identity), "address": self.addresses.failure(address_key(address))}
        self._save()
        return {kind: seconds for kind, seconds in locks.items() if seconds}

    def succeeded(self, identity: str) -> None:
        if self.identities.clear(identity):
            self._save()
