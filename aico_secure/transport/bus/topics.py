"""Topic grammar and topic permissions, decided at the broker.

ZeroMQ subscriptions are byte *prefixes*: subscribing to ``b"conv"`` also delivers ``conversation.secret``. So
a permission cannot be an exact topic; it is a *grant*, a dotted namespace ending in ``"."`` (``"conversation."``).
A component may publish a topic, or subscribe to a prefix, only if it starts with one of its grants; then every
topic a granted subscription can ever match lies inside the grant. The empty subscription ("everything") and
prefixes that stop mid-segment (``"conv"``) are therefore refused unless a grant covers them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from aico_secure.transport.errors import BusConfigError

MAX_TOPIC_BYTES = 255
_SEGMENT = r"[a-z0-9_-]+"
_TOPIC = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
_GRANT = re.compile(rf"(?:{_SEGMENT}\.)+")


class MalformedTopic(ValueError):
    """A topic frame that is not ASCII ``segment(.segment)*`` of at most 255 bytes."""


def parse_topic(raw: bytes) -> str:
    """The topic as text, or ``MalformedTopic``. Only lower-case ASCII letters, digits, ``_``, ``-`` and dots."""
    if not raw or len(raw) > MAX_TOPIC_BYTES:
        raise MalformedTopic("topic must be 1..255 bytes")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise MalformedTopic("topic must be ASCII") from None
    if not _TOPIC.fullmatch(text):
        raise MalformedTopic("topic must look like segment(.segment)* with [a-z0-9_-] segments")
    return text


def validate_grants(grants: Iterable[str]) -> tuple[str, ...]:
    """Grants as a sorted tuple; ``BusConfigError`` for anything that is not a dotted namespace ending in '.'."""
    out = set()
    for grant in grants:
        if not isinstance(grant, str) or len(grant) > MAX_TOPIC_BYTES or not _GRANT.fullmatch(grant):
            raise BusConfigError(f"topic grant {grant!r} must be a namespace ending in '.', e.g. 'conversation.'")
        out.add(grant)
    return tuple(sorted(out))


def may_publish(grants: Collection[str], topic: str) -> bool:
    return any(topic.startswith(g) for g in grants)


def may_subscribe(grants: Collection[str], prefix: bytes) -> bool:
    """True when every topic ``prefix`` can match lies inside one of ``grants``."""
    try:
        text = prefix.decode("ascii")
    except UnicodeDecodeError:
        return False
    return any(text.startswith(g) for g in grants)
