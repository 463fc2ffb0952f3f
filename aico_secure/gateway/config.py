"""The gateway's tunable limits, in one place, with defaults chosen for a single-household local companion.

Why these numbers: access tokens live 5 minutes (a stolen one is short-lived; clients refresh silently),
refresh tokens 8 hours and rotate on every use. Five wrong passwords lock an identity, twenty failures lock a
client address (so spraying one guess over many users is caught too); locks start at 30 s and double on every
further lock up to an hour, which keeps an online guesser to a few dozen guesses a day per identity. Bodies are
small JSON documents: 64 KiB is far above any legitimate request. Connection limits (caps, timeouts, header
size) are in ``ConnectionLimits``; ``connections`` explains how they are enforced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aico_secure.gateway.errors import GatewayError


@dataclass(frozen=True)
class ConnectionLimits:
    """Limits of one connection and caps over all of them. Times in seconds, sizes in bytes.

    Why these numbers: a household's clients need a handful of connections; 256 sockets and 64 per address
    leave ample room while bounding memory (each TLS connection costs tens of KiB). A real client completes a
    TLS handshake on loopback in milliseconds and sends a request head in one write, so 5 s and 10 s only
    ever cut off clients that stall on purpose. 16 KiB of request head is far above what the API's routes need
    (the largest header is an access token of at most 2 KiB).
    """

    max_connections: int = 256  # open sockets in total, TLS handshakes included
    max_per_address: int = 64  # open sockets from one IPv4 address / IPv6 /64
    tls_handshake_timeout: float = 5.0  # from accept to a completed TLS 1.3 handshake
    # From the server's close (after a response that ends the connection, such as a 408) to the peer's TLS
    # close_notify: a peer that never answers it would otherwise hold its slot for asyncio's default 30 s.
    tls_shutdown_timeout: float = 2.0
    header_timeout: float = 10.0  # from waiting for a request to its complete head, not reset by trickled bytes
    idle_timeout: float = 5.0  # from waiting for a request to its first byte (after TLS or after a response)
    body_timeout: float = 10.0  # from a complete request head to its complete body
    max_header_bytes: int = 16 * 1024  # request line and headers together; more is 431
    max_in_flight: int = 64  # requests being served at once; more get 503 with Retry-After

    def __post_init__(self) -> None:
        if self.max_connections < 1 or not 1 <= self.max_per_address <= self.max_connections:
            raise GatewayError("connection caps must be at least 1, the per-address cap not above the total")
        if min(self.tls_handshake_timeout, self.tls_shutdown_timeout, self.header_timeout, self.idle_timeout,
               self.body_timeout) <= 0:
            raise GatewayError("connection timeouts must be positive")
        if self.max_header_bytes < 1024 or self.max_in_flight < 1:
            raise GatewayError("max_header_bytes must be at least 1024 and max_in_flight at least 1")


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
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)

    def __post_init__(self) -> None:
        if "*" in self.cors_origins:
            raise GatewayError("wildcard CORS origin refused: the gateway's routes carry credentials")
        if not 0 < self.access_ttl <= self.refresh_ttl:
            raise GatewayError("access_ttl must be positive and not longer than refresh_ttl")
        if self.identity_failure_threshold < 1 or self.address_failure_threshold < 1:
            raise GatewayError("failure thresholds must be at least 1")
        if not 0 < self.lockout_base_seconds <= self.lockout_max_seconds:
            raise GatewayError("lockout_base_seconds must be positive and not above lockout_max_seconds")
