"""A sustained attack is reported about once per window per source, not once per event (AICO-ANO-001, -002).

An alert says "this source crossed the threshold in this window". Raising one for every further event once
the threshold is crossed turns a brute-force run or a scraping plugin into thousands of alerts: they bury the
rest of the log and teach the user to ignore alerts, which is how a detector stops detecting. Another check
(every window of an attack is reported) bounds the gap between alerts from above; this one bounds their
number: over an attack lasting ``WINDOWS`` windows, at most one alert per window (plus one for an attack that
straddles window edges) about the attacking source.
The attacks are run once per test process and read by both checks (``_sustained``), each alert looked for
after every event.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.target.audit import AuditTrail

from ._sustained import WINDOWS
from .test_anomaly_lc_semantics import access, alerts_about

OpenTrail = Callable[..., AuditTrail]
AlertTimes = Callable[[str], list[float]]
QUIET_HOURS = 2


def assert_not_flooded(times: list[float], windows: int, what: str) -> None:
    assert times, f"a sustained {what} raised no alert: nothing was checked"
    assert len(times) <= windows + 1, (
        f"a sustained {what} lasting {windows} window(s) raised {len(times)} alerts about the same source: "
        "an alert per event instead of one per window")


@pytest.mark.requirement("AICO-ANO-001")
def test_sustained_auth_failures_do_not_flood_alerts(sustained_alert_times: AlertTimes) -> None:
    assert_not_flooded(sustained_alert_times("auth"), WINDOWS, "run of failed logins from one source")


@pytest.mark.requirement("AICO-ANO-002")
def test_sustained_access_volume_does_not_flood_alerts(sustained_alert_times: AlertTimes) -> None:
    assert_not_flooded(sustained_alert_times("access"), WINDOWS, "stream of accesses by one actor")


@pytest.mark.requirement("AICO-ANO-002")
def test_night_long_access_does_not_flood_alerts(open_trail: OpenTrail, clock: Clock) -> None:
    clock.advance(3600 - clock.now % 3600)  # the start of an hour, made the start of the quiet hours
    start = int(clock.now // 3600 % 24)
    trail: AuditTrail = open_trail(quiet_start_hour=start, quiet_end_hour=(start + QUIET_HOURS) % 24,
                                   category_baseline=10_000, access_volume=1_000_000)
    times: list[float] = []
    for _ in range(QUIET_HOURS * 60):
        access(trail, "plugin.night-owl", "memories")
        if len(alerts_about(trail, "unusual_time", "plugin.night-owl")) > len(times):
            times.append(clock.now)
        clock.advance(60)
    assert_not_flooded(times, 1, f"access during all {QUIET_HOURS} quiet hours")
