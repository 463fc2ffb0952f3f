"""AICO-CON-002 at the time boundaries where expiry code goes wrong: the exact expiry instant and one tick
either side, local midnight, both daylight-saving changes in a zone that has them, and the declared maximum
lifetime (a longer grant is refused or clamped to it, never given)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.target import AccessDenied
from aico_secure.target.consent import ConsentService

from .conftest import PLUGIN, USER
from .timezone import FALL_BACK, MIDNIGHT_BEFORE_FALL_BACK, SPRING_FORWARD, local_zone

TICK = 1.0
# (name, when the grant is made, its lifetime): each lifetime ends on the far side of the boundary, or on it.
BOUNDARIES = {
    "ends inside the repeated hour": (FALL_BACK - 5400.0, 3600.0),  # 00:30 EDT + 1 h = 01:30 EDT (first pass)
    "ends at the fall-back instant": (FALL_BACK - 600.0, 600.0),
    "spans the fall-back": (FALL_BACK - 1800.0, 3600.0),
    "ends inside the skipped hour's place": (SPRING_FORWARD - 1800.0, 2700.0),
    "spans the spring-forward": (SPRING_FORWARD - 600.0, 7200.0),
    "ends at local midnight": (MIDNIGHT_BEFORE_FALL_BACK - 300.0, 300.0),
    "spans local midnight": (MIDNIGHT_BEFORE_FALL_BACK - 60.0, 120.0),
}
# Instants after expiry to look at: the next tick, and later ones where a local wall-clock reading of "now"
# falls back before the expiry's reading (the repeated hour) or jumps (the skipped one).
AFTER = (TICK, 60.0, 1800.0, 3599.0, 3600.0, 5400.0, 86_400.0)


@pytest.mark.requirement("AICO-CON-002")
@pytest.mark.parametrize("boundary", sorted(BOUNDARIES))
def test_expiry_is_exact_across_midnight_and_daylight_saving(service: ConsentService, clock: Clock,
                                                             user_category: str, boundary: str) -> None:
    start, ttl = BOUNDARIES[boundary]
    probes = [(-TICK, True), (0.0, False)] + [(after, False) for after in AFTER]
    with local_zone():
        for offset, works in probes:
            # A fresh grant per probe, looked at only at that instant: a build that forgets expired grants
            # once it notices them must not depend on having been asked earlier.
            clock.now = start
            grant = service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=ttl)
            expiry = grant.expires_at
            assert start < expiry <= start + ttl, (
                f"{boundary}: a {ttl:g} s grant reports expiry at +{expiry - start} s")
            clock.now = expiry + offset
            allowed = service.is_allowed(PLUGIN, user_category, "read")
            assert allowed == works, (
                f"{boundary}: {'refused' if works else 'allowed'} {offset:+g} s from the expiry instant")
            if not works:
                with pytest.raises(AccessDenied):
                    service.read(PLUGIN, user_category, "r1")


@pytest.mark.requirement("AICO-CON-002")
def test_declared_maximum_lifetime_is_enforced(service: ConsentService, clock: Clock, user_category: str,
                                               open_service: Callable[[], ConsentService]) -> None:
    limit = service.max_grant_seconds()
    assert isinstance(limit, (int, float)) and math.isfinite(limit) and limit > 0, (
        f"max_grant_seconds() must be a positive finite number, not {limit!r}")
    start = clock()
    exact = service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=limit)
    assert exact.expires_at <= start + limit, "a grant of exactly the maximum lifetime outlives it"
    for asked in (limit + 1.0, limit * 2.0):
        try:
            grant = service.grant(USER, PLUGIN, user_category, "write", ttl_seconds=asked)
        except ValueError:
            continue
        assert grant.expires_at <= clock() + limit, (
            f"a grant for {asked:g} s (declared maximum {limit:g} s) expires at +{grant.expires_at - clock():g} s")
    clock.now = start + limit
    reopened = open_service()
    for op in ("read", "write"):
        assert not reopened.is_allowed(PLUGIN, user_category, op), (
            f"a {op} grant still works at the declared maximum lifetime ({limit:g} s) after it was made")
