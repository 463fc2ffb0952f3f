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


# Long ordinary names: dotted plugin ids, snake_case categories and resource names, a hyphenated device name.
# None is key- or token-shaped (no mix of upper case, lower case and digits; not all hex), so a build that
# scrubs credentials from events has no reason to touch them.
LONG_NAMES = {
    "actor": "plugin.com.example.weather-forecast-daily-summary",
    "subject": "conversation_summaries_2024_archive_by_month",
    "record": "memories/long_term/holiday_plans_with_family_and_friends",
}


@pytest.mark.requirement("AICO-AUD-001")
def test_long_ordinary_names_are_recorded_as_written(trail: AuditTrail) -> None:
    """An event says who accessed what only if its names survive: scrubbing credentials from events must not
    drop, refuse or rewrite an ordinary identifier because it is long, nor an ordinary number or flag."""
    details = {"record": LONG_NAMES["record"], "rows": 3, "seconds": 0.25, "cached": False}
    event = AuditEvent(category="data_access", action="read", actor=LONG_NAMES["actor"],
                       subject=LONG_NAMES["subject"], result="success", details=details)
    trail.record(event)
    kept = [e for e in trail.events() if e.category == "data_access" and e.action == "read"]
    assert kept, "a data access event with long ordinary names was not recorded"
    back = kept[-1]
    assert (back.actor, back.subject) == (LONG_NAMES["actor"], LONG_NAMES["subject"]), (
        f"actor/subject read back as {back.actor!r}/{back.subject!r}")
    changed = {name: back.details.get(name) for name, value in details.items() if back.details.get(name) != value}
    assert not changed, f"ordinary details read back changed: {changed} (written {details})"
