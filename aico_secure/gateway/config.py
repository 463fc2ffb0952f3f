"""The gateway's tunable limits, in one place, with defaults chosen for a single-household local companion.

Why these numbers: access tokens live 5 minutes (a stolen one is short-lived; clients refresh silently),
refresh tokens 8 hours and rotate on every use. Five wrong passwords lock an identity, twenty failures lock a
client address (so spraying one guess over many users is caught too); locks start at 30 s and double on every
further lock up to an hour, which keeps an online guesser to a few dozen guesses a day per identity. Bodies are
small JSON documents: 64 KiB is far above any legitimate request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aico_secure.gateway.errors import GatewayError


@dataclass(frozen=True)
class GatewayConfig:
    access_ttl: int = 300
    refresh_ttl: int = 8 * 3600
    identity_failure_threshold: int = 5
    address_failure_threshold: int = 20
    lockout_base_seconds: float = 30.0
    lockout_max_seconds: float = 3600.0
    failure_memory_seconds: float = 3600.0  # failures are forgotten after this long without a new one
    challenge_ttl: float = 60.0
    max_pending_challenges: int = 10_000
    max_pending_per_identity: int = 4
    max_body_bytes: int = 64 * 1024
    # Request-rate limits (``limits`` notation, wall-clock time): auth routes per client address and per identity.
    auth_rate_per_address: str = "50/second"
    auth_rate_per_identity: str = "20/second"
    api_rate_per_user: str = "200/second"
    cors_origins: Sequence[str] = field(default_factory=tuple)  # explicit origins only; never "*"

    def __post_init__(self) -> None:
        if "*" in self.cors_origins:
            raise GatewayError("wildcard CORS origin refused: the gateway's routes carry credentials")
        if not 0 < self.access_ttl <= self.refresh_ttl:
            raise GatewayError("access_ttl must be positive and not longer than refresh_ttl")
        if self.identity_failure_threshold < 1 or self.address_failure_threshold < 1:
            raise GatewayError("failure thresholds must be at least 1")
        if not 0 < self.lockout_base_seconds <= self.lockout_max_seconds:
            raise GatewayError("lockout_base_seconds must be positive and not above lockout_max_seconds")
