"""A sustained attack is reported in every window it lasts (AICO-ANO-001, AICO-ANO-002).

Suppressing repeats keeps a flood of alerts from burying the log, but the window is the unit of detection: an
attack that goes on for several windows must show up in each of them, so no two consecutive alerts about the
same source may be further apart than one window. The check runs at one-second steps, so an alert held back
until one tick after the window has passed is as visible as one never raised again.
The attacks are run once per test process and read by both checks (``_sustained``), each alert looked for
after every event.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from ._sustained import WINDOW_S, WINDOWS

AlertTimes = Callable[[str], list[float]]


def assert_every_window_alerted(times: list[float], what: str) -> None:
    assert times, f"a sustained {what} lasting {WINDOWS} windows of {WINDOW_S} s raised no alert"
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(times) >= WINDOWS - 1 and all(gap <= WINDOW_S for gap in gaps), (
        f"a sustained {what} lasting {WINDOWS} windows of {WINDOW_S} s raised {len(times)} alert(s), gaps "
        f"{gaps} s: a window of the attack went unreported")


@pytest.mark.requirement("AICO-ANO-001")
def test_sustained_auth_failures_alert_in_every_window(sustained_alert_times: AlertTimes) -> None:
    assert_every_window_alerted(sustained_alert_times("auth"), "run of failed logins from one source")


@pytest.mark.requirement("AICO-ANO-002")
def test_sustained_access_volume_alerts_in_every_window(sustained_alert_times: AlertTimes) -> None:
    assert_every_window_alerted(sustained_alert_times("access"), "stream of accesses by one actor")
