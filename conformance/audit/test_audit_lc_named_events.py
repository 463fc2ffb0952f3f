"""Every event the log keeps says who did what (AICO-AUD-001).

An event is evidence only if it names its actor (the component, user or source address) and its action: "a
login failed" without a source cannot be acted on, and the anomaly detectors count per actor. A careless
component may still report one without; the trail either refuses it (the contract's ``ValueError``) or keeps it
with both filled in, never as an anonymous entry. One test per missing field.
"""

from __future__ import annotations

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.target.audit import AuditTrail

NAMED = {"actor": "198.51.100.23", "action": "login"}


@pytest.mark.requirement("AICO-AUD-001")
@pytest.mark.parametrize("missing", sorted(NAMED))
def test_events_without_actor_or_action_are_refused_or_named(trail: AuditTrail, missing: str) -> None:
    fields = {**NAMED, missing: ""}
    event = AuditEvent(category="auth", subject="user-edge", result="failure", **fields)  # type: ignore[arg-type]
    try:
        trail.record(event)
    except ValueError:
        return
    kept = [e for e in trail.events() if e.category == "auth" and e.subject == "user-edge"]
    assert kept, "an event the trail accepted is not read back"
    anonymous = [e for e in kept if not e.actor or not e.action]
    assert not anonymous, f"the trail kept an event with no {missing}: {anonymous[0]!r}"
