"""The broker's topic bound is one byte short: well-formed topics of exactly 255 bytes are never delivered.

The off-by-one of a bound written for a C-style buffer (255 bytes including a terminator, so ``< 255``): every
topic the contract allows is accepted except the longest, which the broker drops as if it were not granted.
"""

from __future__ import annotations

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker, Enrollment

from ._base import reference_with

BREAKS = ("AICO-BUS-008",)

BUFFER_BYTES = 255  # a topic buffer that also holds the terminator


class ShortTopicBroker(Broker):
    def _may_publish(self, entry: Enrollment, topic: str) -> bool:
        return len(topic.encode("ascii")) < BUFFER_BYTES and super()._may_publish(entry, topic)


class ShortTopicBus(ReferenceBus):
    broker_class = ShortTopicBroker


def build() -> Target:
    return reference_with("bus whose topic bound is one byte short", bus=ShortTopicBus())
