"""What a publisher sends the bus broker: the frames of one message, through the broker's own per-message code.

The broker (AICO-BUS-008) must drop malformed frames, ungranted topics and garbage and keep serving: anything
that escapes ``Broker._on_publish`` ends the broker loop, so this surface has no refusals at all. Each input is
one multipart message (``_multipart`` layout: the choice picks which session sent it) handed to a real
``Broker`` object, its real allowlist and a real XPUB socket on inproc; only the receiving side is replaced by a
queue, because a frame's ZAP User-Id can only be stamped by a CURVE handshake, and one handshake per input would
cost the fuzzer three orders of magnitude of speed. ``verification/fuzz/test_bus_surfaces.py`` replays the corpus
through a running broker on 127.0.0.1 to show the two agree.

Beyond "nothing escapes", every input is held to what the broker promises, computed independently of its code
(``expected``): exactly one outcome per message, one audit event for each dropped message, and a message is
forwarded only from a live session, as exactly two frames, with a well-formed topic inside a publish grant.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import zmq

from aico_secure.fuzz._harness import _multipart
from aico_secure.fuzz._harness._bus_broker import (
    GRANTS,
    READER,
    SENDERS,
    WRITER,
    FuzzedBroker,
    Received,
)
from aico_secure.fuzz.interface import Harness
from aico_secure.transport.bus.topics import MAX_TOPIC_BYTES

Outcome = Literal["forwarded", "denied", "malformed"]
MAX_FRAMES = 6  # the broker keeps three frames and drains the rest: six reach every branch of that loop

_TOPIC_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_-")


class BrokerBrokeItsContract(AssertionError):
    """The broker answered a message other than the way AICO-BUS-008 and the topic grants say it must."""


def decode(data: bytes) -> tuple[str, list[bytes]]:
    """(sender, frames) of one input."""
    choice, frames = _multipart.decode(data, choices=len(SENDERS), max_frames=MAX_FRAMES)
    return SENDERS[choice], frames


def encode(sender: str, frames: list[bytes]) -> bytes:
    return _multipart.encode(SENDERS.index(sender), frames, choices=len(SENDERS), max_frames=MAX_FRAMES)


def well_formed_topic(raw: bytes) -> bool:
    """The topic grammar restated without a regex: 1..255 bytes of dot-separated non-empty [a-z0-9_-] runs."""
    return 0 < len(raw) <= MAX_TOPIC_BYTES and all(s and set(s) <= _TOPIC_BYTES for s in raw.split(b"."))


def expected(sender: str, frames: list[bytes]) -> Outcome:
    """What the broker must do with ``frames`` sent on ``sender``'s session, from its documented rules."""
    if sender not in (WRITER, READER):
        return "denied"
    if len(frames) != 2 or not well_formed_topic(frames[0]):
        return "malformed"
    topic = frames[0].decode("ascii")
    return "forwarded" if any(topic.startswith(g) for g in GRANTS[sender][0]) else "denied"


class _Publisher:
    """The broker's XSUB socket as ``_on_publish`` reads it, holding one message."""

    def __init__(self, frames: list[Received]) -> None:
        self._frames = frames

    def recv(self, flags: int = 0, copy: bool = True) -> Received:
        if not self._frames:
            raise zmq.Again()
        return self._frames.pop(0)


@dataclass(frozen=True)
class _Counts:
    forwarded: int
    denied: int
    malformed: int
    audit_errors: int
    events: int


class BusFrameHarness(Harness):
    name = "bus_frame"
    surface = "the frames of one message a client publishes, through the bus broker's per-message checks"
    refusals = ()  # the broker drops bad messages itself; anything raised would stop the broker loop
    max_len = 4096  # the topic bound is 255 bytes; payloads are forwarded untouched, their size is libzmq's
    timeout_s = 5
    rss_limit_mb = 1024
    dictionary = (b"conversation.", b"telemetry.", b"telemetry.cpu.", b"cpu", b"conversation.secret", b".",
                  b"..", b"-", b"_", b"\x00", b"\x01", b"\xff", b"\n", b"A", b"#", b" ")

    def setup(self) -> None:
        self._bus = FuzzedBroker("aico-fuzz-bus-")
        self._bus.broker._sockets["subscribe"] = self._bus.xpub  # _on_publish forwards to it

    def teardown(self) -> None:
        self._bus.broker._sockets.pop("subscribe")
        self._bus.stop()

    def _counts(self) -> _Counts:
        stats = self._bus.broker.stats
        return _Counts(stats.forwarded, stats.denied_publish, stats.malformed, stats.audit_errors,
                       self._bus.sink.events)

    def run(self, data: bytes) -> None:
        sender, frames = decode(data)
        before = self._counts()
        self._bus.broker._on_publish(_Publisher(self._bus.received(sender, frames)))  # type: ignore[arg-type]
        after = self._counts()
        outcome = expected(sender, frames)
        want = _Counts(before.forwarded + (outcome == "forwarded"), before.denied + (outcome == "denied"),
                       before.malformed + (outcome == "malformed"), before.audit_errors,
                       before.events + (outcome != "forwarded"))
        if after != want:
            raise BrokerBrokeItsContract(f"{len(frames)} frame(s) from {sender or 'no user id'}: expected "
                                         f"{outcome}, broker counters went {before} -> {after}")

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        """Messages as components publish them (topic, payload), on every kind of session, plus the shapes the
        broker must drop: a lone frame, three frames, a topic outside every grant, a topic off the grammar."""
        payload = b'{"v":1,"text":"hello"}'
        longest = ("telemetry.cpu." + "x" * MAX_TOPIC_BYTES)[:MAX_TOPIC_BYTES].encode()
        messages = {
            "granted": [b"conversation.turn", payload],
            "granted-nested": [b"telemetry.cpu.load_1-m", b"0.25"],
            "granted-longest": [longest, b""],
            "not-granted": [b"memory.facts", payload],
            "grant-prefix-only": [b"conversation", payload],
            "upper-case": [b"Conversation.turn", payload],
            "empty-segment": [b"conversation..turn", payload],
            "too-long": [longest + b"x", payload],
            "one-frame": [b"conversation.turn"],
            "three-frames": [b"conversation.turn", payload, payload],
            "empty-topic": [b"", payload],
        }
        for sender in SENDERS:
            for label, frames in messages.items():
                yield f"{sender or 'no-user-id'}-{label}", encode(sender, frames)


HARNESS = BusFrameHarness()
