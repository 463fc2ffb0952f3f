"""The bus broker both bus harnesses fuzz: a real ``Broker`` object with its real allowlist, two live sessions,
one session whose key was rotated out and one revoked, and a real XPUB socket on inproc in place of the one it
would bind, so a harness can hand it one message at a time without a CURVE handshake per input."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import zmq

from aico_secure.audit.events import AuditEvent
from aico_secure.transport.bus import keys
from aico_secure.transport.bus.broker import Broker, BrokerConfig

# Sessions a message can arrive on. Only the first two can exist on a real broker (ZAP admits live keys only);
# the others are sessions whose key was rotated out or revoked after the handshake, and a frame without User-Id.
WRITER, READER, ROTATED_OUT, REVOKED, NO_USER_ID = "writer", "reader", "rotated", "gone", ""
SENDERS: tuple[str, ...] = (WRITER, READER, ROTATED_OUT, REVOKED, NO_USER_ID)
GRANTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # component: (publish, subscribe)
    WRITER: (("conversation.", "telemetry.cpu."), ("conversation.",)),
    READER: ((), ("telemetry.",)),
    ROTATED_OUT: (("conversation.",), ()),
    REVOKED: (("conversation.",), ()),
}


class CountingSink:
    """The broker's audit sink, counting events: every dropped message must be audited once."""

    def __init__(self) -> None:
        self.events = 0

    def record(self, event: AuditEvent) -> None:
        self.events += 1



class Received(zmq.Frame):
    """A frame as ``recv(copy=False)`` returns it: the ``more`` flag and the session's ZAP User-Id."""

    more: bool = False
    user_id: str | None = None

    def get(self, option: int | str | bytes) -> int | str:  # type: ignore[override]
        if option == "User-Id" and self.user_id is not None:
            return self.user_id
        raise zmq.ZMQError(zmq.EINVAL)


class FuzzedBroker:
    """One broker per campaign process; inputs change only its counters and subscriptions, never its sessions."""

    def __init__(self, prefix: str) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix=prefix))
        self.sink = CountingSink()
        self.broker = Broker(BrokerConfig(self.directory / "bus"), audit=self.sink)
        self.user_ids: dict[str, str | None] = {NO_USER_ID: None}
        for component, (publish, subscribe) in GRANTS.items():
            entry, _pair = self.broker.enroll(component, publish=publish, subscribe=subscribe)
            self.user_ids[component] = entry.user_id
        self.broker.allowlist.replace_key(ROTATED_OUT, keys.generate().public)
        self.broker.allowlist.revoke(REVOKED)
        self.xpub = self.broker._context.socket(zmq.XPUB)
        self.xpub.linger = 0
        self.xpub.setsockopt(zmq.XPUB_MANUAL, 1)
        self.xpub.bind(f"inproc://{prefix}{id(self)}")

    def stop(self) -> None:
        self.xpub.close(0)
        self.broker.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def received(self, sender: str, frames: list[bytes]) -> list[Received]:
        """``frames`` as the broker's socket would hand them over from ``sender``'s session."""
        parts = []
        for index, frame in enumerate(frames):
            part = Received(frame)
            part.more = index < len(frames) - 1
            part.user_id = self.user_ids[sender]
            parts.append(part)
        return parts
