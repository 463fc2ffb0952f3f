"""Unusual access volume: more data accesses by one actor within a window than the threshold allows.

A bulk read is what exfiltration by a compromised plugin or a stolen session looks like.
"""

from __future__ import annotations

from aico_secure.audit.anomaly.interface import alert, is_data_access
from aico_secure.audit.anomaly.window import Cooldown, SlidingCounter
from aico_secure.audit.events import AuditEvent

ACTION = "access_volume"


class VolumeDetector:
    def __init__(self, threshold: int, window_s: float) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self._counts = SlidingCounter(window_s, cap=threshold)
        self._cooldown = Cooldown(window_s)

    def observe(self, event: AuditEvent) -> list[AuditEvent]:
        if not is_data_access(event):
            return []
        assert event.timestamp is not None
        now = event.timestamp
        if self._counts.add(event.actor, now) >= self.threshold and self._cooldown.ready(event.actor, now):
            return [alert(ACTION, event.actor, now, {"accesses": self.threshold, "window_s": self.window_s})]
        return []
