"""AICO-CON-001: access is denied by default; no data access without an explicit grant for that category and
that operation."""

from __future__ import annotations

import pytest

from aico_secure.target import AccessDenied
from aico_secure.target.consent import OPERATIONS, Actor, ConsentService

from .conftest import OTHER_PLUGIN, PLUGIN, SYSTEM, USER

ACTORS = [USER, PLUGIN, SYSTEM]


def attempt(service: ConsentService, actor: Actor, category: str, operation: str) -> None:
    if operation == "read":
        service.read(actor, category, "r1")
    elif operation == "write":
        service.write(actor, category, "r1", b"written without consent")
    else:
        service.delete(actor, category, "r1")


@pytest.mark.requirement("AICO-CON-001")
def test_nothing_is_allowed_without_a_grant(service: ConsentService) -> None:
    categories = service.categories()
    assert categories, "the build declares no data categories"
    for category in categories:
        for operation in OPERATIONS:
            for actor in ACTORS:
                assert not service.is_allowed(actor, category, operation), (
                    f"{actor.level} actor may {operation} {category} without any grant")
                with pytest.raises(AccessDenied):
                    attempt(service, actor, category, operation)


@pytest.mark.requirement("AICO-CON-001")
def test_a_grant_allows_exactly_its_category_operation_and_actor(service: ConsentService, user_category: str,
                                                                 second_user_category: str) -> None:
    service.grant(USER, USER, user_category, "write", ttl_seconds=600)
    service.write(USER, user_category, "r1", b"v1")
    for operation in ("read", "delete"):
        with pytest.raises(AccessDenied):
            attempt(service, USER, user_category, operation)
    with pytest.raises(AccessDenied):
        attempt(service, USER, second_user_category, "write")
    for other in (PLUGIN, OTHER_PLUGIN, SYSTEM, USER.__class__("user-2", "user_data")):
        with pytest.raises(AccessDenied):
            attempt(service, other, user_category, "write")
    service.grant(USER, PLUGIN, user_category, "read", ttl_seconds=600)
    assert service.read(PLUGIN, user_category, "r1") == b"v1"
    with pytest.raises(AccessDenied):
        attempt(service, OTHER_PLUGIN, user_category, "read")


@pytest.mark.requirement("AICO-CON-001")
def test_refused_writes_and_deletes_change_nothing(service: ConsentService, user_category: str) -> None:
    service.grant(USER, USER, user_category, "write", ttl_seconds=600)
    service.grant(USER, USER, user_category, "read", ttl_seconds=600)
    service.write(USER, user_category, "r1", b"original")
    for operation in ("write", "delete"):
        with pytest.raises(AccessDenied):
            attempt(service, PLUGIN, user_category, operation)
    assert service.read(USER, user_category, "r1") == b"original"
