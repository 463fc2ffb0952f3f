"""What a detector is, and what the alerts it raises look like."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from aico_secure.audit.events import AuditEvent

DETECTOR_ACTOR = "anomaly-detector"


class Detector(Protocol):
    def observe(self, event: AuditEvent) -> list[AuditEvent]:
        """Alerts caused by ``event`` (usually none). ``event.timestamp`` is set; alerts are never observed."""


def alert(action: str, subject: str, timestamp: float, details: Mapping[str, str | int | float | bool]) -> AuditEvent:
    """An alert about ``subject`` (the source or actor behaving unusually), timed like the event that raised it."""
    return AuditEvent(category="alert", action=action, actor=DETECTOR_ACTOR, result="success", subject=subject,
                      details=dict(details), timestamp=timestamp)


def is_data_access(event: AuditEvent) -> bool:
    return event.category == "data_access"
