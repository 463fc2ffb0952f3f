"""What a subscriber sends the bus broker: subscription messages, through the broker's own per-message code.

The other half of what a client writes to the broker (``bus_frame`` is the publishing half). A subscription is a
byte prefix, so this is where topic grants keep a component from subscribing to more than it may read. As with
publishing, nothing may escape ``Broker._on_subscription`` (it would end the broker loop), so there are no
refusals; every input is also held to the rules, restated independently in ``expected``: a prefix is applied only
for a live session, as ``\\x01`` + a prefix inside one of its subscribe grants; ``\\x00`` + prefix (unsubscribe)
is applied for anyone, since dropping a subscription never widens access; everything else is counted and
audited. The message's last frame is what the broker reads (it drains the frames before it).

Each input is one message (``_multipart`` layout, the choice picks the session) on a real ``Broker`` object and
its allowlist; the socket is a real XPUB on inproc whose receiving side is a queue, for the reason given in
``bus_frame``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import zmq

from aico_secure.fuzz._harness import _multipart
from aico_secure.fuzz._harness._bus_broker import GRANTS, READER, SENDERS, WRITER, FuzzedBroker, Received
from aico_secure.fuzz.interface import Harness

Outcome = Literal["subscribed", "unsubscribed", "denied", "malformed"]
MAX_FRAMES = 3


class BrokerBrokeItsContract(AssertionError):
    """The broker applied, refused or counted a subscription other than the grants say it must."""


def decode(data: bytes) -> tuple[str, list[bytes]]:
    choice, frames = _multipart.decode(data, choices=len(SENDERS), max_frames=MAX_FRAMES)
    return SENDERS[choice], frames


def encode(sender: str, frames: list[bytes]) -> bytes:
    return _multipart.encode(SENDERS.index(sender), frames, choices=len(SENDERS), max_frames=MAX_FRAMES)


def expected(sender: str, frames: list[bytes]) -> Outcome:
    data = frames[-1]
    if data[:1] == b"\x00":
        return "unsubscribed"
    if sender not in (WRITER, READER):
        return "denied"
    if data[:1] != b"\x01":
        return "malformed"
    prefix = data[1:]
    granted = prefix.isascii() and any(prefix.startswith(g.encode()) for g in GRANTS[sender][1])
    return "subscribed" if granted else "denied"


class _Subscriber:
    """The broker's XPUB socket as ``_on_subscription`` uses it: one queued message in, real options out."""

    def __init__(self, socket: zmq.Socket[bytes], frames: list[Received]) -> None:
        self._socket = socket
        self._frames = frames
        self.applied: list[tuple[int, bytes]] = []

    def recv(self, flags: int = 0, copy: bool = True) -> Received:
        if not self._frames:
            raise zmq.Again()
        return self._frames.pop(0)

    def setsockopt(self, option: int, value: bytes) -> None:
        self.applied.append((option, value))
        self._socket.setsockopt(option, value)


@dataclass(frozen=True)
class _Counts:
    denied: int
    malformed: int
    audit_errors: int
    events: int


class BusSubscriptionHarness(Harness):
    name = "bus_subscription"
    surface = "the subscription messages a client sends the bus broker, through its subscribe-grant checks"
    refusals = ()  # the broker refuses a subscription itself; anything raised would stop the broker loop
    max_len = 1024  # a prefix longer than any topic (255 bytes) subscribes to nothing; longer adds no paths
    timeout_s = 5
    rss_limit_mb = 1024
    dictionary = (b"\x01", b"\x00", b"conversation.", b"telemetry.", b"telemetry.cpu.", b"conv", b".", b"\xff",
                  b"\x01conversation.", b"\x01telemetry.")

    def setup(self) -> None:
        self._bus = FuzzedBroker("aico-fuzz-bus-sub-")

    def teardown(self) -> None:
        self._bus.stop()

    def _counts(self) -> _Counts:
        stats = self._bus.broker.stats
        return _Counts(stats.denied_subscribe, stats.malformed, stats.audit_errors, self._bus.sink.events)

    def run(self, data: bytes) -> None:
        sender, frames = decode(data)
        subscriber = _Subscriber(self._bus.xpub, self._bus.received(sender, frames))
        before = self._counts()
        self._bus.broker._on_subscription(subscriber)  # type: ignore[arg-type]
        after = self._counts()
        outcome = expected(sender, frames)
        applied = {"subscribed": [(zmq.SUBSCRIBE, frames[-1][1:])],
                   "unsubscribed": [(zmq.UNSUBSCRIBE, frames[-1][1:])]}.get(outcome, [])
        dropped = outcome in ("denied", "malformed")
        want = _Counts(before.denied + (outcome == "denied"), before.malformed + (outcome == "malformed"),
                       before.audit_errors, before.events + dropped)
        if after != want or subscriber.applied != applied:
            raise BrokerBrokeItsContract(f"{len(frames)} frame(s) from {sender or 'no user id'}: expected {outcome}, "
                                         f"counters {before} -> {after}, applied {subscriber.applied}")

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        """What libzmq's SUB socket writes for ``setsockopt(SUBSCRIBE/UNSUBSCRIBE, prefix)``: a flag byte and
        the prefix, for prefixes inside, across and outside the grants, on every kind of session."""
        messages = {
            "granted": [b"\x01conversation."],
            "granted-deeper": [b"\x01telemetry.cpu."],
            "stops-mid-segment": [b"\x01conv"],
            "everything": [b"\x01"],
            "not-granted": [b"\x01memory."],
            "unsubscribe": [b"\x00conversation."],
            "not-a-subscription": [b"conversation."],
            "two-frames": [b"\x01memory.", b"\x01conversation."],
        }
        for sender in SENDERS:
            for label, frames in messages.items():
                yield f"{sender or 'no-user-id'}-{label}", encode(sender, frames)


HARNESS = BusSubscriptionHarness()
