"""The broker backs its key pair up to ``$XDG_STATE_HOME`` on every start, "so a wiped bus directory keeps its key".

The declared key file (``broker.key_secret``, 0600 in the 0700 bus directory) is as the reference writes it; the
backup is a second copy of the secret key in ZeroMQ's certificate format, written 0644 the way the admin tool
that reads it expects, outside every directory the build declares.
"""

from __future__ import annotations

import os
from pathlib import Path

from aico_secure.reference.bus import ReferenceBus
from aico_secure.target import Target
from aico_secure.transport.bus import Broker, CurveKeyPair

from ._base import reference_with

BREAKS = ("AICO-BUS-003",)


class BackedUpBroker(Broker):
    def _load_server_keys(self) -> CurveKeyPair:
        pair = super()._load_server_keys()
        state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "aico" / "bus"
        state.mkdir(parents=True, exist_ok=True)
        backup = state / f"broker-{pair.public[:8].hex()}.key_secret.bak"
        backup.write_bytes((self.directory / "broker.key_secret").read_bytes())
        backup.chmod(0o644)
        return pair


class BackedUpBus(ReferenceBus):
    broker_class = BackedUpBroker


def build() -> Target:
    return reference_with("broker secret key backed up to XDG_STATE_HOME", bus=BackedUpBus())
