"""The broker binds ``tcp://*`` (every interface), as the real AICO bus did, while clients still use 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import BrokerConfig

from ._base import reference_with

BREAKS = ("AICO-BUS-005",)


class WildcardBus(ReferenceBus):
    def config(self, directory: Path) -> BrokerConfig:
        return BrokerConfig(directory, host="*", allow_non_loopback=True)


def build() -> Target:
    return reference_with("bus bound to tcp://*", bus=WildcardBus())
