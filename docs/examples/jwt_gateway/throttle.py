"""Login throttling: failure counts and locks per identity and per client address, with backoff, persisted.

How it is used (``api``): ``gate`` holds one lock around "is either locked?", the password check and the
recording of its result, so guesses racing each other cannot all pass a check made before the first failure is
counted, and a refused guess never reaches the password hash. Reaching a threshold locks for ``lock_base``
seconds of the gateway's clock; once a lock has run out, the next failure locks again for twice as long (up to
``lock_max``). A successful login clears its identity; an address is only cleared by time (``failure_memory``
after its last failure). The counts are written, sealed, before the failure is answered, so a restart gives a
guesser nothing back. The address is the connection's peer address, whatever headers the client sends.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from .sealed import SealedFile
from .settings import Settings

Clock = Callable[[], float]


@dataclass
class Tally:
    failures: int = 0
    locks: int = 0
    last: float = 0.0
    until: float = 0.0


@dataclass(frozen=True)
class Refusal:
    kind: str  # "identity" or "address"
    seconds: int  # whole seconds until the lock ends, at least 1


class Lockouts:
    def __init__(self, file: SealedFile, settings: Settings, clock: Clock) -> None:
        self._file = file
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._tallies: dict[str, dict[str, Tally]] = {"identity": {}, "address": {}}
        if file.exists():
            document = file.load()
            for kind in self._tallies:
                self._tallies[kind] = {k: Tally(**_fields(v)) for k, v in document.get(kind, {}).items()}
        else:
            self._save()

    def __repr__(self) -> str:
        return f"Lockouts({len(self._tallies['identity'])} identities, {len(self._tallies['address'])} addresses)"

    def _save(self) -> None:
        self._file.save({kind: {k: asdict(t) for k, t in tallies.items()} for kind, tallies in self._tallies.items()})

    @contextmanager
    def gate(self) -> Iterator[None]:
        """One login attempt's check, verification and recording, as one step."""
        with self._lock:
            yield

    def refusal(self, username: str, address: str) -> Refusal | None:
        """The lock (if any) that refuses this attempt now."""
        now = self._clock()
        for kind, key in (("identity", username), ("address", address)):
            tally = self._tallies[kind].get(key)
            if tally is not None and tally.until > now:
                return Refusal(kind, max(1, math.ceil(tally.until - now)))
        return None

    def failed(self, username: str, address: str) -> list[Refusal]:
        """Count a failure against both; returns the locks it started."""
        now, started = self._clock(), []
        for kind, key, threshold in (("identity", username, self._settings.identity_threshold),
                                     ("address", address, self._settings.address_threshold)):
            tallies = self._tallies[kind]
            tally = tallies.get(key) or Tally()
            if now - max(tally.last, tally.until) >= self._settings.failure_memory:  # quiet long enough
                tally = Tally()
            tally.failures, tally.last = tally.failures + 1, now
            if tally.failures >= threshold:
                tally.locks += 1
                seconds = min(self._settings.lock_base * 2 ** (tally.locks - 1), self._settings.lock_max)
                tally.until = now + seconds
                started.append(Refusal(kind, math.ceil(seconds)))
            tallies[key] = tally
            self._trim(tallies, now)
        self._save()
        return started

    def succeeded(self, username: str) -> None:
        if self._tallies["identity"].pop(username, None) is not None:
            self._save()

    def _trim(self, tallies: dict[str, Tally], now: float) -> None:
        """Keep at most ``max_tracked`` entries: forgotten ones first, then the oldest that are not locked."""
        if len(tallies) <= self._settings.max_tracked:
            return
        for key in [k for k, t in tallies.items() if now - max(t.last, t.until) >= self._settings.failure_memory]:
            del tallies[key]
        unlocked = sorted((t.last, k) for k, t in tallies.items() if t.until <= now)
        for _, key in unlocked[: max(0, len(tallies) - self._settings.max_tracked)]:
            del tallies[key]


def _fields(value: Any) -> dict[str, Any]:
    return {"failures": int(value["failures"]), "locks": int(value["locks"]), "last": float(value["last"]),
            "until": float(value["until"])}
