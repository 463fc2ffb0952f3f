"""Repeated authentication failures, from any component (the gateway's logins, the bus's handshakes).

Counted two ways, because guessing comes in two shapes: many failures from one source (``actor``: a client
address or peer key id) and many failures against one identity (``subject``) from many sources. A success does
not reset the count: failures followed by a success are more suspicious, not less.
"""

from __future__ import annotations

from aico_secure.audit.anomaly.interface import alert
from aico_secure.audit.anomaly.window import Cooldown, SlidingCounter
from aico_secure.audit.events import AuditEvent

ACTION = "auth_failures"


class AuthFailureDetector:
    def __init__(self, threshold: int, window_s: float) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self._counts = SlidingCounter(window_s, cap=threshold)
        self._cooldown = Cooldown(window_s)

    def observe(self, event: AuditEvent) -> list[AuditEvent]:
        if event.category != "auth" or event.result != "failure":
            return []
        assert event.timestamp is not None
        now = event.timestamp
        alerts = []
        for scope, who in (("source", event.actor), ("identity", event.subject)):
            if not who:
                continue
            key = f"{scope}\x00{who}"
            if self._counts.add(key, now) >= self.threshold and self._cooldown.ready(key, now):
                alerts.append(alert(ACTION, who, now, {"scope": scope, "failures": self.threshold,
                                                       "window_s": self.window_s, "last_action": event.action}))
        return alerts
