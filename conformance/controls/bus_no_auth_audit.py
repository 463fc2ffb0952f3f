"""Failed bus handshakes are counted locally but never reported to the audit sink."""

from __future__ import annotations

from typing import Literal

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker

from ._base import reference_with

BREAKS = ("AICO-BUS-009",)


class SilentBroker(Broker):
    def _emit(self, category: Literal["auth", "system"], action: str, actor: str,
              result: Literal["failure", "denied"], subject: str, details: dict[str, str | int]) -> None:
        if action != "bus_handshake":
            super()._emit(category, action, actor, result, subject, details)


class SilentBus(ReferenceBus):
    broker_class = SilentBroker


def build() -> Target:
    return reference_with("bus auth failures not audited", bus=SilentBus())
