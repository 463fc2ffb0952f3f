"""The broker keeps a count of malformed messages by the detail of each reason ("...: <detail>") and takes the
detail with ``split(": ")[1]``: the reasons for a malformed topic have no such detail, so the first malformed
topic raises inside the broker loop, which dies, and the bus stops serving every client."""

from __future__ import annotations

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker

from ._base import reference_with

BREAKS = ("AICO-BUS-008",)


class DetailCountingBroker(Broker):
    def _malformed(self, component: str, why: str) -> None:
        counts: dict[str, int] = self.__dict__.setdefault("malformed_details", {})
        detail = why.split(": ")[1]  # the planted fault: IndexError for a reason without ": "
        counts[detail] = counts.get(detail, 0) + 1
        super()._malformed(component, why)


class DetailCountingBus(ReferenceBus):
    broker_class = DetailCountingBroker


def build() -> Target:
    return reference_with("bus broker dies on a malformed topic", bus=DetailCountingBus())
