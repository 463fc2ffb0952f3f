"""An ``AuditEvent`` as the bytes inside one entry, and back: canonical JSON, checked both ways.

Checked on the way in so a malformed event is refused with a typed error before anything is written, and on
the way out so a build that can read an entry can trust its fields' types.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, get_args

from aico_secure.audit.errors import InvalidAuditEvent
from aico_secure.audit.events import AuditEvent, Category, Result

CATEGORIES: tuple[str, ...] = get_args(Category)
RESULTS: tuple[str, ...] = get_args(Result)
MAX_TEXT = 512
MAX_DETAILS = 32


def _text(name: str, value: object, *, allow_empty: bool) -> str:
    if not isinstance(value, str) or (not value and not allow_empty) or len(value) > MAX_TEXT:
        raise InvalidAuditEvent(f"audit event field {name} must be a string of at most {MAX_TEXT} characters"
                                + ("" if allow_empty else ", not empty"))
    return value


def validate(event: object) -> AuditEvent:
    """``event`` if it is a well-formed ``AuditEvent``; ``InvalidAuditEvent`` otherwise."""
    if not isinstance(event, AuditEvent):
        raise InvalidAuditEvent(f"expected an AuditEvent, got {type(event).__name__}")
    if event.category not in CATEGORIES:
        raise InvalidAuditEvent(f"unknown audit category {event.category!r}; expected one of {CATEGORIES}")
    if event.result not in RESULTS:
        raise InvalidAuditEvent(f"unknown audit result {event.result!r}; expected one of {RESULTS}")
    _text("action", event.action, allow_empty=False)
    _text("actor", event.actor, allow_empty=False)
    _text("subject", event.subject, allow_empty=True)
    if not isinstance(event.details, Mapping) or len(event.details) > MAX_DETAILS:
        raise InvalidAuditEvent(f"audit event details must be a mapping of at most {MAX_DETAILS} items")
    for key in event.details:
        _text("details key", key, allow_empty=False)
    ts = event.timestamp
    # An int is finite by nature, and math.isfinite would overflow on a huge one read back from an entry.
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float))
                           or (isinstance(ts, float) and not math.isfinite(ts))):
        raise InvalidAuditEvent("audit event timestamp must be a finite number of seconds")
    return event


def to_bytes(event: AuditEvent) -> bytes:
    document = {"v": 1, "category": event.category, "action": event.action, "actor": event.actor,
                "result": event.result, "subject": event.subject, "details": dict(event.details),
                "ts": event.timestamp}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and not (isinstance(value, float) and not math.isfinite(value))


def from_bytes(data: bytes) -> AuditEvent:
    """The event in an entry's plaintext; ``InvalidAuditEvent`` if it is not one."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deep, or an integer too long
        raise InvalidAuditEvent("entry plaintext is not JSON") from None
    if not isinstance(document, dict) or document.get("v") != 1:
        raise InvalidAuditEvent("entry plaintext is not an audit event")
    details = document.get("details")
    if not isinstance(details, dict) or not all(_scalar(v) for v in details.values()):
        raise InvalidAuditEvent("entry details are malformed")
    try:
        event = AuditEvent(category=document["category"], action=document["action"], actor=document["actor"],
                           result=document["result"], subject=document["subject"], details=details,
                           timestamp=document["ts"])
    except KeyError:
        raise InvalidAuditEvent("entry lacks an audit event field") from None
    return validate(event)
