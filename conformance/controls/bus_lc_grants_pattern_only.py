"""Topic grants are checked against the namespace pattern only: a grant longer than any topic is accepted.

Such a grant can never cover a message, so a typo or a generated name that overran the limit is recorded as a
permission instead of being refused when it is given (the contract's ``ValueError`` for a malformed grant).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from aico_secure.audit.events import AuditSink
from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker, BrokerConfig, Enrollment
from aico_secure.transport.bus.allowlist import FILE_NAME, Allowlist, validate_component
from aico_secure.transport.bus.keys import is_z85_key
from aico_secure.transport.errors import BusConfigError

from ._base import reference_with

BREAKS = ("AICO-BUS-004",)

_GRANT = re.compile(r"(?:[a-z0-9_-]+\.)+")


def _pattern_only(grants: Iterable[str]) -> tuple[str, ...]:
    out = set()
    for grant in grants:
        if not isinstance(grant, str) or not _GRANT.fullmatch(grant):
            raise BusConfigError(f"topic grant {grant!r} must be a namespace ending in '.'")
        out.add(grant)
    return tuple(sorted(out))


class PatternOnlyAllowlist(Allowlist):
    def enroll(self, component: str, public_key: bytes, publish: Collection[str],
               subscribe: Collection[str]) -> Enrollment:
        validate_component(component)
        if not is_z85_key(public_key):
            raise BusConfigError("public key must be 40 characters of Z85")
        entry = Enrollment(component, public_key.decode("ascii"), 1, _pattern_only(publish),
                           _pattern_only(subscribe))
        with self._lock:
            current = self._by_component.get(component)
            if current is not None and not current.revoked:
                raise BusConfigError(f"component {component!r} is already enrolled; rotate its key instead")
            if current is not None:
                entry = Enrollment(component, entry.public_key, current.generation + 1, entry.publish, entry.subscribe)
            self._check_key_unused(entry.public_key)
            self._by_component[component] = entry
            self._save()
        return entry


class PatternOnlyBroker(Broker):
    def __init__(self, config: BrokerConfig, audit: AuditSink | None = None) -> None:
        super().__init__(config, audit)
        self.allowlist = PatternOnlyAllowlist(self.directory / FILE_NAME)
        self._auth = self._make_authenticator()


class PatternOnlyBus(ReferenceBus):
    broker_class = PatternOnlyBroker


def build() -> Target:
    return reference_with("bus that checks grants by pattern only", bus=PatternOnlyBus())
