"""AICO-CON-003: revoking a grant takes effect on the next access."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aico_secure.target import AccessDenied
from aico_secure.target.consent import ConsentService

from .conftest import PLUGIN, USER


@pytest.mark.requirement("AICO-CON-003")
def test_revocation_applies_to_the_next_access(service: ConsentService, user_category: str,
                                               open_service: Callable[[], ConsentService]) -> None:
    service.grant(USER, USER, user_category, "write", ttl_seconds=3600)
    service.write(USER, user_category, "r1", b"v1")
    service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=3600)
    service.grant(USER, PLUGIN, user_category, "write", ttl_seconds=3600)
    assert service.read(PLUGIN, user_category, "r1") == b"v1"
    service.write(PLUGIN, user_category, "r2", b"v2")
    service.revoke(USER, PLUGIN.id, user_category, "read")
    with pytest.raises(AccessDenied):
        service.read(PLUGIN, user_category, "r1")
    assert not service.is_allowed(PLUGIN, user_category, "read")
    service.write(PLUGIN, user_category, "r3", b"v3")  # only the revoked operation stops
    service.revoke(USER, PLUGIN.id, user_category, "write")
    with pytest.raises(AccessDenied):
        service.write(PLUGIN, user_category, "r4", b"v4")
    reopened = open_service()
    for operation in ("read", "write"):
        assert not reopened.is_allowed(PLUGIN, user_category, operation), "a revocation was lost on reopening"


@pytest.mark.requirement("AICO-CON-003")
def test_revoke_then_regrant(service: ConsentService, user_category: str) -> None:
    service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=3600)
    service.revoke(USER, PLUGIN.id, user_category, "read")
    assert not service.is_allowed(PLUGIN, user_category, "read")
    service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=3600)
    assert service.is_allowed(PLUGIN, user_category, "read"), "a new grant after a revocation does not work"
    assert [g.category for g in service.active_grants(PLUGIN.id)] == [user_category]
