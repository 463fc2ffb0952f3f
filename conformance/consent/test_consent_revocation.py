"""AICO-CON-003: revoking a grant takes effect on the next access."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aico_secure.target import AccessDenied
from aico_secure.target.consent import Actor, ConsentService

from .conftest import PLUGIN, SYSTEM, USER


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


@pytest.mark.requirement("AICO-CON-003")
def test_a_plugin_can_give_up_its_own_grant(service: ConsentService, user_category: str) -> None:
    """Giving up access only reduces access: the one revocation a plugin may make must take effect."""
    service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=3600)
    service.revoke(PLUGIN, PLUGIN.id, user_category, "read")
    assert not service.is_allowed(PLUGIN, user_category, "read"), "a plugin's revocation of its own grant did nothing"


@pytest.mark.requirement("AICO-CON-003")
@pytest.mark.parametrize("level", ["system", "user_data"])
def test_a_system_component_can_withdraw_any_grant(service: ConsentService, user_category: str,
                                                   system_category: str, level: str) -> None:
    """A core component must be able to cut off access at once, whoever granted it: a misbehaving plugin's in a
    user category, another component's in a system category (only system actors hold those)."""
    category = system_category if level == "system" else user_category
    granter, holder = (SYSTEM, Actor("core.scheduler", "system")) if level == "system" else (USER, PLUGIN)
    service.grant(granter, holder, category, "read", ttl_seconds=3600)
    assert service.is_allowed(holder, category, "read"), "the grant did not take effect: nothing to revoke"
    service.revoke(SYSTEM, holder.id, category, "read")
    assert not service.is_allowed(holder, category, "read"), (
        f"a system component's revocation of {holder.id}'s grant in a {level} category did nothing")
