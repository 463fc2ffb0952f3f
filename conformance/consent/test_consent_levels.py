"""AICO-CON-004: permission levels (system, user data, plugin) are enforced; a plugin cannot grant itself access
or escalate its level."""

from __future__ import annotations

import pytest

from aico_secure.target import AccessDenied
from aico_secure.target.consent import Actor, ConsentService

from .conftest import OTHER_PLUGIN, PLUGIN, SYSTEM, USER


@pytest.mark.requirement("AICO-CON-004")
@pytest.mark.parametrize("subject", [PLUGIN, OTHER_PLUGIN, USER, SYSTEM], ids=["itself", "another-plugin", "the-user",
                                                                              "a-system-actor"])
def test_a_plugin_cannot_grant(service: ConsentService, user_category: str, subject: Actor) -> None:
    for operation in ("read", "write", "delete"):
        with pytest.raises(AccessDenied):
            service.grant(PLUGIN, subject, user_category, operation, ttl_seconds=60)  # type: ignore[arg-type]
        assert not service.is_allowed(subject, user_category, operation)  # type: ignore[arg-type]


@pytest.mark.requirement("AICO-CON-004")
def test_a_plugin_cannot_escalate_by_claiming_another_level(service: ConsentService, user_category: str,
                                                            system_category: str) -> None:
    service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=600)
    assert service.is_allowed(PLUGIN, user_category, "read")
    for level in ("system", "user_data"):
        disguised = Actor(PLUGIN.id, level)  # type: ignore[arg-type]
        with pytest.raises(AccessDenied):
            service.grant(disguised, disguised, user_category, "write", ttl_seconds=60)
        with pytest.raises(AccessDenied):
            service.grant(disguised, disguised, system_category, "read", ttl_seconds=60)
        assert not service.is_allowed(disguised, system_category, "read")
        assert not service.is_allowed(disguised, user_category, "read"), (
            f"the plugin's grant works when it presents itself as {level}")
    assert not service.is_allowed(PLUGIN, user_category, "write")


@pytest.mark.requirement("AICO-CON-004")
def test_system_categories_stay_with_system_actors(service: ConsentService, system_category: str,
                                                   user_category: str) -> None:
    for subject in (PLUGIN, USER):
        with pytest.raises(AccessDenied):
            service.grant(SYSTEM, subject, system_category, "read", ttl_seconds=60)
        assert not service.is_allowed(subject, system_category, "read")
    with pytest.raises(AccessDenied):
        service.grant(USER, USER, system_category, "read", ttl_seconds=60)
    service.grant(SYSTEM, SYSTEM, system_category, "read", ttl_seconds=60)
    assert service.is_allowed(SYSTEM, system_category, "read"), "a system actor cannot be given a system category"
    service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=60)
    assert service.is_allowed(PLUGIN, user_category, "read"), "the user cannot give a plugin personal data"


@pytest.mark.requirement("AICO-CON-004")
def test_a_plugin_cannot_revoke_others_grants(service: ConsentService, user_category: str) -> None:
    service.grant(USER, OTHER_PLUGIN, user_category, "read", ttl_seconds=600)
    with pytest.raises(AccessDenied):
        service.revoke(PLUGIN, OTHER_PLUGIN.id, user_category, "read")
    assert service.is_allowed(OTHER_PLUGIN, user_category, "read"), "a plugin revoked another plugin's grant"
