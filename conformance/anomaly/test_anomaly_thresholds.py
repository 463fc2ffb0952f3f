"""AICO-ANO-002's thresholds are configurable, so a configuration that cannot work must be refused, not read as
something else: a count of 0 quietly taken as "off", or a negative window that never fills, is a detector
switched off by a typo. The contract (``AnomalyThresholds``) says ``open`` raises ``ValueError`` for each."""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.target import KeySession
from aico_secure.target.audit import AnomalyThresholds, AuditCapability

UNWORKABLE = {
    "no-auth-failures": {"auth_failures": 0},
    "negative-volume": {"access_volume": -5},
    "no-category-baseline": {"category_baseline": 0},
    "zero-auth-window": {"auth_window_s": 0.0},
    "negative-volume-window": {"volume_window_s": -60.0},
    "infinite-auth-window": {"auth_window_s": float("inf")},
    "hour-24": {"quiet_start_hour": 24},
    "negative-hour": {"quiet_end_hour": -1},
    "offset-beyond-14h": {"utc_offset_minutes": 15 * 60},
    "offset-below-minus-14h": {"utc_offset_minutes": -15 * 60},
}


@pytest.mark.requirement("AICO-ANO-002")
@pytest.mark.parametrize("name", sorted(UNWORKABLE))
def test_unworkable_thresholds_are_refused(audit: AuditCapability, key_session: KeySession, tmp_path: Path,
                                           clock: Clock, name: str) -> None:
    thresholds = AnomalyThresholds(**UNWORKABLE[name])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        trail = audit.open(key_session, tmp_path / "audit", clock=clock, thresholds=thresholds)
        trail.close()
