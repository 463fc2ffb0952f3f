"""Unusual time of day: data access during the configured quiet hours of the user's local day.

The quiet window is configured, not learnt, so the first night-time access by a new plugin is flagged too.
One alert per actor per quiet window (the length of the window), not one per access.
"""

from __future__ import annotations

from aico_secure.audit.anomaly.interface import alert, is_data_access
from aico_secure.audit.anomaly.window import Cooldown
from aico_secure.audit.events import AuditEvent

ACTION = "unusual_time"


def local_hour(timestamp: float, utc_offset_minutes: int) -> int:
    return int(((timestamp + utc_offset_minutes * 60) // 3600) % 24)


def in_window(hour: int, start: int, end: int) -> bool:
    """``start <= hour < end``, wrapping past midnight when ``start > end``; empty when they are equal."""
    if start == end:
        return False
    return start <= hour < end if start < end else (hour >= start or hour < end)


class TimeOfDayDetector:
    def __init__(self, start_hour: int, end_hour: int, utc_offset_minutes: int) -> None:
        self.start_hour = start_hour
        self.end_hour = end_hour
        self.utc_offset_minutes = utc_offset_minutes
        hours = (end_hour - start_hour) % 24
        self._cooldown = Cooldown(max(hours, 1) * 3600.0)

    def observe(self, event: AuditEvent) -> list[AuditEvent]:
        if not is_data_access(event):
            return []
        assert event.timestamp is not None
        hour = local_hour(event.timestamp, self.utc_offset_minutes)
        if not in_window(hour, self.start_hour, self.end_hour) or not self._cooldown.ready(event.actor,
                                                                                           event.timestamp):
            return []
        return [alert(ACTION, event.actor, event.timestamp, {"local_hour": hour, "category": event.subject,
                                                              "quiet_hours": f"{self.start_hour}-{self.end_hour}"})]
