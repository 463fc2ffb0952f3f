"""AICO-CON-005: every data access passes the consent check and the check is audited."""

from __future__ import annotations

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.target import AccessDenied
from aico_secure.target.consent import ConsentService

from .conftest import PLUGIN, USER, Collector


def checks_since(sink: Collector, mark: int) -> list[AuditEvent]:
    return [e for e in sink.events[mark:] if e.category == "consent" and e.action == "check"]


@pytest.mark.requirement("AICO-CON-005")
@pytest.mark.parametrize("operation", ["read", "write", "delete"])
def test_every_access_is_checked_and_the_check_audited(service: ConsentService, sink: Collector,
                                                       user_category: str, operation: str) -> None:
    service.grant(USER, USER, user_category, "write", ttl_seconds=600)
    service.write(USER, user_category, "r1", b"v1")
    service.grant(USER, PLUGIN, user_category, operation, ttl_seconds=600)  # type: ignore[arg-type]

    def run(actor_id: str) -> None:
        actor = PLUGIN if actor_id == PLUGIN.id else USER.__class__(actor_id, "plugin")
        if operation == "read":
            service.read(actor, user_category, "r1")
        elif operation == "write":
            service.write(actor, user_category, "r1", b"v2")
        else:
            service.delete(actor, user_category, "r1")

    mark = len(sink.events)
    run(PLUGIN.id)
    allowed = checks_since(sink, mark)
    assert any(e.actor == PLUGIN.id and e.result == "success" and e.subject == f"{user_category}:{operation}"
               for e in allowed), f"an allowed {operation} left no audited consent check: {sink.events[mark:]}"
    mark = len(sink.events)
    with pytest.raises(AccessDenied):
        run("plugin.stranger")
    denied = checks_since(sink, mark)
    assert any(e.actor == "plugin.stranger" and e.result == "denied" for e in denied), (
        f"a refused {operation} left no audited consent check: {sink.events[mark:]}")


@pytest.mark.requirement("AICO-CON-005")
def test_decisions_asked_directly_are_audited(service: ConsentService, sink: Collector, user_category: str) -> None:
    mark = len(sink.events)
    assert not service.is_allowed(PLUGIN, user_category, "read")
    assert any(e.result == "denied" and e.actor == PLUGIN.id for e in checks_since(sink, mark)), (
        "a decision was made without being audited")
