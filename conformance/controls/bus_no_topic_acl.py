"""Topic grants are recorded but never enforced: any enrolled component publishes and subscribes anywhere."""

from __future__ import annotations

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker, Enrollment

from ._base import reference_with

BREAKS = ("AICO-BUS-004",)


class TrustingBroker(Broker):
    def _may_publish(self, entry: Enrollment, topic: str) -> bool:
        return True

    def _may_subscribe(self, entry: Enrollment, prefix: bytes) -> bool:
        return True


class NoAclBus(ReferenceBus):
    broker_class = TrustingBroker


def build() -> Target:
    return reference_with("bus without topic permissions", bus=NoAclBus())
