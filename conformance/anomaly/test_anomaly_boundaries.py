"""Anomaly thresholds hold at their exact boundaries (AICO-ANO-002), not only well inside and well outside them.

* The category baseline is an actor's first ``category_baseline`` accesses: a category first used by the last
  of them is part of the baseline, one first used by the next access is unusual.
* Quiet hours are ``[quiet_start_hour, quiet_end_hour)`` of local time, local time being UTC shifted by
  ``utc_offset_minutes``. Checked one second either side of each edge, with offsets that are not whole hours
  (India's +5:30, Newfoundland's -3:30) so an offset applied in the wrong unit moves an edge visibly, and with
  the extreme offsets of real zones (+14:00, -12:00), which a build must accept.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.target.audit import AuditTrail

from .test_anomaly_lc_semantics import access, alerts_about

OpenTrail = Callable[..., AuditTrail]
BASELINE = 6


@pytest.mark.requirement("AICO-ANO-002")
def test_category_first_used_by_the_last_baseline_access_is_learned(open_trail: OpenTrail, clock: Clock) -> None:
    trail = open_trail(category_baseline=BASELINE, access_volume=10_000, quiet_start_hour=0, quiet_end_hour=0)
    for _ in range(BASELINE - 1):
        access(trail, "plugin.edge", "conversations")
        clock.advance(30)
    access(trail, "plugin.edge", "health")  # access number BASELINE: still the baseline
    clock.advance(30)
    assert not alerts_about(trail, "unusual_category", "plugin.edge"), (
        f"a category first used by access {BASELINE} of a {BASELINE}-access baseline was flagged")
    access(trail, "plugin.edge", "contacts")  # access number BASELINE + 1: past it
    assert alerts_about(trail, "unusual_category", "plugin.edge"), (
        f"a category first used by access {BASELINE + 1}, after a {BASELINE}-access baseline, was not flagged")


# (offset minutes, UTC hour:minute of a quiet-hours edge for quiet hours 1-5 local, which edge)
EDGES = [
    (330, (19, 30), "start"), (330, (23, 30), "end"),   # +5:30: local 01:00 = 19:30 UTC, 05:00 = 23:30 UTC
    (-210, (4, 30), "start"), (-210, (8, 30), "end"),   # -3:30: local 01:00 = 04:30 UTC, 05:00 = 08:30 UTC
    # The world's extreme offsets are real zones a user may live in: Kiribati's Line Islands (+14:00) and
    # Baker Island (-12:00). +14:00: local 01:00 = 11:00 UTC the day before; -12:00: local 01:00 = 13:00 UTC.
    (840, (11, 0), "start"), (840, (15, 0), "end"),
    (-720, (13, 0), "start"), (-720, (17, 0), "end"),
]


@pytest.mark.requirement("AICO-ANO-002")
@pytest.mark.parametrize(("offset", "edge", "which"), EDGES,
                         ids=[f"{o:+d}min-{w}" for o, _e, w in EDGES])
@pytest.mark.parametrize("side", [-1, 0], ids=["one-second-before", "at-the-edge"])
def test_quiet_hours_edges_are_exact(open_trail: OpenTrail, clock: Clock, offset: int, edge: tuple[int, int],
                                     which: str, side: int) -> None:
    trail = open_trail(quiet_start_hour=1, quiet_end_hour=5, utc_offset_minutes=offset, access_volume=10_000,
                       category_baseline=10_000)
    clock.set_utc(*edge)
    clock.advance(side)
    access(trail, "plugin.edge", "memories")
    quiet = (which == "start") == (side == 0)  # inside: at the start edge, or just before the end edge
    flagged = bool(alerts_about(trail, "unusual_time", "plugin.edge"))
    assert flagged is quiet, (
        f"access {'at' if side == 0 else 'one second before'} the {which} of quiet hours 1-5 (local time = UTC "
        f"{offset:+d} min): expected flagged={quiet}")


# Quiet hours 23-6 wrap past midnight: (offset minutes, UTC hour:minute of an edge, which edge).
WRAPPED_EDGES = [
    (0, (23, 0), "start"), (0, (6, 0), "end"),
    (330, (17, 30), "start"), (330, (0, 30), "end"),    # +5:30: local 23:00 = 17:30 UTC, 06:00 = 00:30 UTC
]


@pytest.mark.requirement("AICO-ANO-002")
@pytest.mark.parametrize(("offset", "edge", "which"), WRAPPED_EDGES,
                         ids=[f"{o:+d}min-{w}" for o, _e, w in WRAPPED_EDGES])
@pytest.mark.parametrize("side", [-1, 0], ids=["one-second-before", "at-the-edge"])
def test_quiet_hours_across_midnight_have_exact_edges(open_trail: OpenTrail, clock: Clock, offset: int,
                                                      edge: tuple[int, int], which: str, side: int) -> None:
    """A window that wraps past midnight is tested on its own: its end is compared the other way round from a
    window inside one day, so an edge can be right for one and wrong for the other."""
    trail = open_trail(quiet_start_hour=23, quiet_end_hour=6, utc_offset_minutes=offset, access_volume=10_000,
                       category_baseline=10_000)
    clock.set_utc(*edge)
    clock.advance(side)
    access(trail, "plugin.edge", "memories")
    quiet = (which == "start") == (side == 0)
    flagged = bool(alerts_about(trail, "unusual_time", "plugin.edge"))
    assert flagged is quiet, (
        f"access {'at' if side == 0 else 'one second before'} the {which} of quiet hours 23-6 (local time = UTC "
        f"{offset:+d} min): expected flagged={quiet}")
