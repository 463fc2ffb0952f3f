"""Compose the detectors from one set of thresholds and run every event past all of them."""

from __future__ import annotations

import math

from aico_secure.audit.anomaly.auth_failures import AuthFailureDetector
from aico_secure.audit.anomaly.category import CategoryDetector
from aico_secure.audit.anomaly.interface import Detector
from aico_secure.audit.anomaly.time_of_day import TimeOfDayDetector
from aico_secure.audit.anomaly.volume import VolumeDetector
from aico_secure.audit.events import AuditEvent
from aico_secure.target.audit import AnomalyThresholds


def _check(thresholds: AnomalyThresholds) -> None:
    for name in ("auth_failures", "access_volume", "category_baseline"):
        value = getattr(thresholds, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"anomaly threshold {name} must be a positive integer")
    for name in ("auth_window_s", "volume_window_s"):
        value = getattr(thresholds, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"anomaly threshold {name} must be a positive number of seconds")
    for name in ("quiet_start_hour", "quiet_end_hour"):
        value = getattr(thresholds, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
            raise ValueError(f"anomaly threshold {name} must be an hour from 0 to 23")
    offset = thresholds.utc_offset_minutes
    if isinstance(offset, bool) or not isinstance(offset, int) or not -14 * 60 <= offset <= 14 * 60:
        raise ValueError("anomaly threshold utc_offset_minutes must be whole minutes within +-14 hours")


def detectors_for(thresholds: AnomalyThresholds) -> list[Detector]:
    """One detector per pattern, configured from ``thresholds`` (``ValueError`` for nonsensical values)."""
    _check(thresholds)
    return [
        AuthFailureDetector(thresholds.auth_failures, float(thresholds.auth_window_s)),
        VolumeDetector(thresholds.access_volume, float(thresholds.volume_window_s)),
        CategoryDetector(thresholds.category_baseline),
        TimeOfDayDetector(thresholds.quiet_start_hour, thresholds.quiet_end_hour, thresholds.utc_offset_minutes),
    ]


class AnomalyMonitor:
    def __init__(self, detectors: list[Detector]) -> None:
        self._detectors = detectors

    @classmethod
    def from_thresholds(cls, thresholds: AnomalyThresholds | None = None) -> AnomalyMonitor:
        return cls(detectors_for(thresholds or AnomalyThresholds()))

    def observe(self, event: AuditEvent) -> list[AuditEvent]:
        """Every alert ``event`` raises. Alerts are not observed again (an alert about alerts is noise)."""
        if event.category == "alert":
            return []
        return [a for detector in self._detectors for a in detector.observe(event)]
