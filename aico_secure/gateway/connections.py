"""Per-connection limits of the gateway's HTTPS server, and the table that enforces its connection caps.

Why a table of its own: one local client can open hundreds of sockets. Those that never start TLS, stop after
TLS, or send their request head a byte at a time cost the server a slot each without ever asking for anything.
Timeouts end each such connection in time, but a client can open new ones faster than timeouts expire, so the
table also caps connections per client address and in total.

A per-address cap alone does not help here: the gateway listens on 127.0.0.1, so the attacker and the
legitimate client share one address, and a full cap would lock both out. So when a cap is reached, the table
**evicts** rather than refuses: the oldest connection that is not serving a request (still in the TLS
handshake, waiting for or reading a request head, or idle between requests) is closed to make room. Under the
global cap the victim comes from the address holding the most connections, so a heavy user pays before a light
one. A connection that is serving a request is never evicted (its request is bounded by the body timeout and
the handlers' own work); only when every slot is serving a request is a new connection refused (closed at
once, before TLS, so it costs nothing).

Residual risk (docs/gateway.md): a client that opens connections faster than a legitimate client completes
its TLS handshake and request head can still evict it; the caps bound the memory and sockets that costs the
server, not the attacker's ability to compete for slots on the same address.

Not thread-safe: it lives on the server's event loop and is only touched from there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from aico_secure.gateway.config import ConnectionLimits
from aico_secure.gateway.ratelimit import address_key

Stage = Literal["handshake", "waiting", "busy"]


@dataclass(eq=False)
class Connection:
    """One open socket as the table sees it. ``close`` aborts it; the table calls it only on eviction."""

    key: str
    close: Callable[[], None] = field(repr=False)
    stage: Stage = "handshake"
    since: float = 0.0
    open: bool = True


class ConnectionTable:
    def __init__(self, limits: ConnectionLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._by_key: dict[str, list[Connection]] = {}
        self._count = 0
        self.evicted = 0  # counters for tests and diagnostics
        self.refused = 0

    def __repr__(self) -> str:
        return f"ConnectionTable({self._count} open, {self.evicted} evicted, {self.refused} refused)"

    def __len__(self) -> int:
        return self._count

    def count(self, host: str) -> int:
        return len(self._by_key.get(address_key(host), ()))

    def admit(self, host: str, close: Callable[[], None]) -> Connection | None:
        """Register a new connection from ``host``, evicting older idle ones to make room; None if every slot
        is serving a request (the caller closes the new connection)."""
        key = address_key(host)
        while True:
            address_full = len(self._by_key.get(key, ())) >= self.limits.max_per_address
            if not address_full and self._count < self.limits.max_connections:
                break
            victim = self._victim(key) if address_full else self._victim(self._heaviest(), anywhere=True)
            if victim is None:
                self.refused += 1
                return None
            self.release(victim)
            self.evicted += 1
            victim.close()
        connection = Connection(key, close, "handshake", self._clock())
        self._by_key.setdefault(key, []).append(connection)
        self._count += 1
        return connection

    def mark(self, connection: Connection, stage: Stage) -> None:
        """The connection entered ``stage`` now (its age for eviction counts from here)."""
        connection.stage, connection.since = stage, self._clock()

    def release(self, connection: Connection) -> None:
        """Forget a closed connection; calling it again does nothing."""
        if not connection.open:
            return
        connection.open = False
        group = self._by_key[connection.key]
        group.remove(connection)
        if not group:
            del self._by_key[connection.key]
        self._count -= 1

    def _heaviest(self) -> str:
        return max(self._by_key, key=lambda k: len(self._by_key[k]))

    def _victim(self, key: str, *, anywhere: bool = False) -> Connection | None:
        """The connection of ``key`` that has waited longest without serving a request; with ``anywhere``, of
        any address when ``key`` has none (freeing a global slot helps whoever holds it)."""
        idle = [c for c in self._by_key.get(key, ()) if c.stage != "busy"]
        if not idle and anywhere:
            idle = [c for group in self._by_key.values() for c in group if c.stage != "busy"]
        return min(idle, key=lambda c: c.since, default=None)
