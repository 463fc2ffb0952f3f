"""The numbers this gateway enforces, in one place.

Why these values: access tokens live 10 minutes and refresh tokens a day (a stolen access token is short-lived,
the companion app refreshes silently, a lost device stops working within a day); four wrong passwords lock an
identity and twenty-four failures lock a client address, with locks that start at a minute and double up to two
hours. Password hashing follows OWASP's Argon2id minimum (19 MiB, 2 passes, 1 lane): a few dozen milliseconds a
login on a small machine, while an offline guess costs the same. The request limits are below the reference's on
purpose: they are declared in ``policy`` and the suite holds the build to its own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import MAX_VALUE_CHARS


@dataclass(frozen=True)
class Settings:
    issuer: str = "urn:example:jwt-gateway"
    access_ttl: int = 600
    refresh_ttl: int = 24 * 3600
    identity_threshold: int = 4
    address_threshold: int = 24
    lock_base: float = 60.0
    lock_max: float = 2 * 3600.0
    failure_memory: float = 3600.0  # failures are forgotten this long after the last one
    max_tracked: int = 10_000  # identities and addresses kept each; the oldest unlocked go first
    max_body_bytes: int = 32 * 1024
    body_timeout: float = 10.0  # from a complete request head to the complete body
    max_header_bytes: int = 12 * 1024
    max_value_chars: int = MAX_VALUE_CHARS
    cors_origins: tuple[str, ...] = ("https://companion.example",)
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    argon2_parallelism: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.access_ttl <= self.refresh_ttl:
            raise ValueError("access_ttl must be positive and not above refresh_ttl")
        if "*" in self.cors_origins:
            raise ValueError("a wildcard CORS origin is refused: the API carries credentials")
        if self.max_value_chars + 64 > self.max_body_bytes:
            raise ValueError("max_body_bytes must leave room for a value of max_value_chars")
