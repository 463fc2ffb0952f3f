"""The component key directory is created 0755 (as a packaging script's ``install -d`` leaves it); key files stay 0600.

Every secret key file is owner-only, so no existing check of file modes sees it; but anyone on the machine can
list which components exist, watch their keys being rotated, and reach any file that is ever written there
with a looser mode.
"""

from __future__ import annotations

from collections.abc import Collection

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker, CurveKeyPair, Enrollment

from ._base import reference_with

BREAKS = ("AICO-BUS-002",)


class OpenDirBroker(Broker):
    def enroll(self, component: str, *, publish: Collection[str] = (),
               subscribe: Collection[str] = ()) -> tuple[Enrollment, CurveKeyPair]:
        (self.directory / "components").mkdir(mode=0o755, exist_ok=True)
        (self.directory / "components").chmod(0o755)
        return super().enroll(component, publish=publish, subscribe=subscribe)


class OpenDirBus(ReferenceBus):
    broker_class = OpenDirBroker


def build() -> Target:
    return reference_with("component key directory 0755", bus=OpenDirBus())
