"""AICO-CON-002: grants are time-limited and expire automatically (on the clock the service was opened with)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from aico_secure.target import AccessDenied
from aico_secure.target.consent import ConsentService

from .conftest import PLUGIN, USER, Clock


@pytest.mark.requirement("AICO-CON-002")
def test_grant_expires_after_its_lifetime(service: ConsentService, user_category: str, clock: Clock,
                                          open_service: Callable[[], ConsentService]) -> None:
    start = clock()
    grant = service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=300)
    assert start < grant.expires_at <= start + 300, f"grant for 300 s expires at +{grant.expires_at - start} s"
    clock.advance(299)
    assert service.read(PLUGIN, user_category, "r1") is None, "the grant did not work within its lifetime"
    clock.advance(1)
    with pytest.raises(AccessDenied):
        service.read(PLUGIN, user_category, "r1")
    assert not service.is_allowed(PLUGIN, user_category, "read")
    assert not [g for g in service.active_grants(PLUGIN.id) if g.category == user_category], (
        "an expired grant is still listed as active")
    clock.advance(3600)
    reopened = open_service()
    with pytest.raises(AccessDenied):
        reopened.read(PLUGIN, user_category, "r1")


@pytest.mark.requirement("AICO-CON-002")
def test_expiry_needs_no_access_to_happen(open_service: Callable[[], ConsentService], user_category: str,
                                          clock: Clock) -> None:
    service = open_service()
    service.grant(USER, PLUGIN, user_category, "write", ttl_seconds=60)
    service.close()
    clock.advance(61)
    reopened = open_service()
    assert not reopened.is_allowed(PLUGIN, user_category, "write"), "a grant outlived its lifetime across a restart"


@pytest.mark.requirement("AICO-CON-002")
@pytest.mark.parametrize("ttl", [math.inf, 0, -5, math.nan], ids=["infinite", "zero", "negative", "nan"])
def test_grants_without_a_finite_lifetime_are_refused(service: ConsentService, user_category: str,
                                                      ttl: float) -> None:
    with pytest.raises((ValueError, AccessDenied)):
        service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=ttl)
    assert not service.is_allowed(PLUGIN, user_category, "read"), "a refused grant still gave access"
