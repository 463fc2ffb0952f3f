"""A sustained attack is reported in every window it lasts (AICO-ANO-001, AICO-ANO-002).

Suppressing repeats keeps a flood of alerts from burying the log, but the window is the unit of detection: an
attack that goes on for several windows must show up in each of them, so no two consecutive alerts about the
same source may be further apart than one window. The check runs at one-second steps, so an alert held back
until one tick after the window has passed is as visible as one never raised again.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.target.audit import AuditTrail

from .test_anomaly_lc_semantics import CALM, access, alerts_about, fail_login

OpenTrail = Callable[..., AuditTrail]
WINDOW_S = 60
WINDOWS = 4


def alert_times(trail: AuditTrail, clock: Clock, action: str, subject: str, act: Callable[[int], None]) -> list[float]:
    """Run ``act(i)`` once a second for ``WINDOWS`` windows; the clock times at which a new alert appeared."""
    times: list[float] = []
    seen = 0
    for i in range(WINDOWS * WINDOW_S):
        act(i)
        count = len(alerts_about(trail, action, subject))
        if count > seen:
            times.append(clock.now)
            seen = count
        clock.advance(1)
    return times


def assert_every_window_alerted(times: list[float], what: str) -> None:
    assert times, f"a sustained {what} lasting {WINDOWS} windows of {WINDOW_S} s raised no alert"
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(times) >= WINDOWS - 1 and all(gap <= WINDOW_S for gap in gaps), (
        f"a sustained {what} lasting {WINDOWS} windows of {WINDOW_S} s raised {len(times)} alert(s), gaps "
        f"{gaps} s: a window of the attack went unreported")


@pytest.mark.requirement("AICO-ANO-001")
def test_sustained_auth_failures_alert_in_every_window(open_trail: OpenTrail, clock: Clock) -> None:
    trail = open_trail(auth_failures=3, auth_window_s=WINDOW_S, **CALM)
    times = alert_times(trail, clock, "auth_failures", "203.0.113.77",
                        lambda i: fail_login(trail, "203.0.113.77", f"user-{i}"))
    assert_every_window_alerted(times, "run of failed logins from one source")


@pytest.mark.requirement("AICO-ANO-002")
def test_sustained_access_volume_alerts_in_every_window(open_trail: OpenTrail, clock: Clock) -> None:
    trail = open_trail(access_volume=3, volume_window_s=WINDOW_S, **CALM)
    times = alert_times(trail, clock, "access_volume", "plugin.steady",
                        lambda i: access(trail, "plugin.steady", "conversations"))
    assert_every_window_alerted(times, "stream of accesses by one actor")
