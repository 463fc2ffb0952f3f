"""Thresholds are read leniently: a count below 1 or a window that is not positive means "this detector is
off", and an hour or offset out of range is wrapped into range, so a typo in the configuration silently
switches detection off instead of being refused."""

from __future__ import annotations

import dataclasses
import math

from aico_secure.audit.anomaly import AnomalyMonitor
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.target import Target
from aico_secure.target.audit import AnomalyThresholds

from ._base import reference_with

BREAKS = ("AICO-ANO-002",)

OFF = 10**9


def lenient(thresholds: AnomalyThresholds) -> AnomalyThresholds:
    fixed: dict[str, object] = {}
    for name in ("auth_failures", "access_volume", "category_baseline"):
        if getattr(thresholds, name) < 1:
            fixed[name] = OFF
    for name in ("auth_window_s", "volume_window_s"):
        value = getattr(thresholds, name)
        if not math.isfinite(value) or value <= 0:
            fixed[name] = 1.0
    for name in ("quiet_start_hour", "quiet_end_hour"):
        fixed[name] = getattr(thresholds, name) % 24
    offset = thresholds.utc_offset_minutes
    fixed["utc_offset_minutes"] = max(-14 * 60, min(14 * 60, offset))
    return dataclasses.replace(thresholds, **fixed)  # type: ignore[arg-type]


class LenientAudit(ReferenceAudit):
    def monitor(self, thresholds: AnomalyThresholds | None) -> AnomalyMonitor:
        return AnomalyMonitor.from_thresholds(lenient(thresholds or AnomalyThresholds()))


def build() -> Target:
    return reference_with("unworkable anomaly thresholds silently switch detection off", audit=LenientAudit())
