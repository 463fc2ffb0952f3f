"""Test doubles the suite hands to builds: a clock that moves only when told, and an audit sink that keeps
what it is given. They stand in for the *environment* of a build (time, an external log), never for the
build itself."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aico_secure.audit.events import AuditEvent


class ManualClock:
    """Seconds since the epoch, like ``time.time``; starts at ``start`` (default: now) and moves only on
    ``advance`` / ``set_utc``. Injected wherever the contract takes ``clock=``."""

    def __init__(self, start: datetime | float | None = None) -> None:
        if start is None:
            self.now = time.time()
        elif isinstance(start, datetime):
            self.now = start.timestamp()
        else:
            self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def set_utc(self, hour: int, minute: int = 0) -> None:
        """Move forward to the next time of day ``hour:minute`` UTC (never backwards)."""
        day = datetime.fromtimestamp(self.now, UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
        target = day.timestamp()
        self.now = target if target > self.now else target + 86400


class CollectingSink:
    """An ``AuditSink`` that keeps every event in ``events`` so a test can read what a build reported."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    def text(self) -> str:
        return "\n".join(repr(e) for e in self.events)


def weekday_afternoon() -> ManualClock:
    """A Monday 14:00 UTC: outside any quiet hours, so time-of-day alerts stay quiet unless a test moves it."""
    return ManualClock(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
