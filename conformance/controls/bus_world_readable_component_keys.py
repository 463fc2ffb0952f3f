"""Component secret key files are written world-readable (0644), so any local user can impersonate them."""

from __future__ import annotations

from collections.abc import Collection

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker, CurveKeyPair, Enrollment

from ._base import reference_with

BREAKS = ("AICO-BUS-002",)


class CarelessBroker(Broker):
    def enroll(self, component: str, *, publish: Collection[str] = (),
               subscribe: Collection[str] = ()) -> tuple[Enrollment, CurveKeyPair]:
        entry, pair = super().enroll(component, publish=publish, subscribe=subscribe)
        (self.directory / "components" / f"{component}.key_secret").chmod(0o644)
        return entry, pair


class CarelessBus(ReferenceBus):
    broker_class = CarelessBroker


def build() -> Target:
    return reference_with("component keys world-readable", bus=CarelessBus())
