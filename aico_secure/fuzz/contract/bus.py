"""Frames at the bus endpoint: malformed messages from an allowed CURVE client and from unauthenticated peers.

The property (AICO-BUS-008, fuzzed): whatever arrives, the broker keeps delivering a valid message between two
allowed clients within a bound, and subscribers only ever receive ``[topic, payload]`` with a well-formed topic
inside their grant and no frame over ``max_message_bytes``. Inputs: prefixes and mutations of real messages,
random multipart splits, oversize frames, garbage frames, from the allowed client, a NULL-mechanism client, an
unlisted CURVE key, and raw bytes on the TCP port.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import zmq

from aico_secure.fuzz.contract.interface import (
    DELIVERED_MALFORMED,
    STOPPED_SERVING,
    ContractSurface,
    Finding,
    Source,
    SurfaceUnavailable,
)
from aico_secure.probes.bus import (
    ZMTP_CURVE_GREETING,
    BusProbe,
    ProbeClient,
    ProbePair,
    RecordingSink,
    exchange,
    has_marker,
    raw_connection,
)
from aico_secure.target import Target
from aico_secure.target.bus import BusBroker, BusCapability

NAMESPACE = b"probe."
_TOPIC = re.compile(rb"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
LIVENESS_EVERY = 40  # inputs between two checks that a valid message still gets through
REAL_MESSAGES = ([b"probe.ok", b"hello"], [b"probe.fuzz.deep.topic", b"x" * 64], [b"probe.a", b""])
TOKENS = (b"probe.", b".", b"..", b"\x00", b"\xff\xfe", b" ", b"UPPER", b"probe", b"\x01probe.", b"\x00probe.")


class BusSurface(ContractSurface):
    name = "bus"
    bound_s = 5.0

    def __init__(self) -> None:
        self.broker: BusBroker | None = None
        self.probe: BusProbe | None = None
        self.pair: ProbePair | None = None
        self.senders: dict[str, ProbeClient] = {}
        self.tcp: list[str] = []
        self.steps = 0
        self.markers = 0

    def setup(self, target: Target, workdir: Path) -> None:
        capability = target.bus
        if not isinstance(capability, BusCapability):
            raise SurfaceUnavailable("the build has no bus capability")
        self.broker = capability.start(workdir / "bus", audit=RecordingSink())
        self.probe = BusProbe(self.broker)
        self.pair = ProbePair.enroll(self.broker, self.probe)
        rogue = self.broker.enroll("fuzz-rogue", publish=[NAMESPACE.decode()])
        self.senders = {"allowed": self.probe.allowed(rogue, zmq.PUB), "null": self.probe.null(zmq.PUB),
                        "unlisted": self.probe.stranger(zmq.PUB)}
        self.tcp = [e for e in (self.broker.publish_endpoint, self.broker.subscribe_endpoint)
                    if e.startswith("tcp://")]
        if not self._alive()[0]:  # the positive control: without it "still serving" would prove nothing
            raise SurfaceUnavailable("a valid message between two allowed clients was not delivered before fuzzing")

    def _frames(self, source: Source) -> list[bytes]:
        assert self.broker is not None
        limit = self.broker.max_message_bytes
        base = [bytes(f) for f in source.pick(REAL_MESSAGES)]
        how = source.weighted({"prefix": 3, "split": 3, "mutate": 4, "oversize": 1, "garbage": 2, "frames": 2})
        if how == "prefix":  # a valid message cut short: fewer frames, or a frame cut
            joined = b"\x00".join(base)
            return [joined[:source.int_in(0, len(joined))]]
        if how == "split":  # the same bytes in a random number of frames
            joined = base[0] + base[1]
            cuts = sorted(source.int_in(0, len(joined)) for _ in range(source.int_in(0, 5)))
            edges = [0, *cuts, len(joined)]
            return [joined[a:b] for a, b in itertools.pairwise(edges)]
        if how == "mutate":
            frame = source.int_in(0, len(base) - 1)
            data = bytearray(base[frame])
            for _ in range(source.int_in(1, 4)):
                op = source.int_in(0, 3)
                at = source.int_in(0, len(data))
                if op == 0 and data:
                    data[min(at, len(data) - 1)] ^= 1 << source.int_in(0, 7)
                elif op == 1:
                    data[at:at] = source.pick(TOKENS)
                elif op == 2:
                    del data[at:at + source.int_in(1, 8)]
                else:
                    data[at:at] = source.raw(source.int_in(1, 300))
            base[frame] = bytes(data)
            return base
        if how == "oversize":
            return [base[0], b"O" * (limit + source.int_in(1, 64))]
        if how == "garbage":
            return [source.raw(source.int_in(0, 512)) for _ in range(source.int_in(1, 4))]
        return base + [source.raw(source.int_in(0, 32)) for _ in range(source.int_in(1, 4))]

    def step(self, source: Source, label: str) -> list[Finding]:
        assert self.probe is not None
        who = source.weighted({"allowed": 6, "null": 1, "unlisted": 1, "raw": 2 if self.tcp else 0})
        if who == "raw":
            endpoint = source.pick(self.tcp)
            blob = source.pick((b"", ZMTP_CURVE_GREETING[:source.int_in(1, 64)], b"GET / HTTP/1.1\r\n\r\n"))
            try:
                raw_connection(endpoint, blob + source.raw(source.int_in(0, 600)), timeout=1.0)
            except OSError:
                pass  # a refused connection is judged by the next liveness check, not here
        else:
            try:
                self.senders[who].socket.send_multipart(self._frames(source), zmq.NOBLOCK)
            except zmq.Again:
                pass
        self.steps += 1
        if self.steps % LIVENESS_EVERY:
            return []
        return self._check(label)

    def _check(self, label: str) -> list[Finding]:
        assert self.pair is not None
        drained: list[list[bytes]] = []
        while True:
            try:
                drained.append(self.pair.sub.socket.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                break
        alive, during = self._alive()
        since = f"{label} (the inputs since step {max(0, self.steps - LIVENESS_EVERY)})"
        findings = self._malformed(drained + during, since)
        if not alive:
            findings.append(Finding(self.name, STOPPED_SERVING, "a valid message between two allowed clients was "
                                    f"not delivered within {self.bound_s:.0f} s", since))
        return findings

    def _alive(self) -> tuple[bool, list[list[bytes]]]:
        """Whether a fresh valid message gets from the allowed publisher to the allowed subscriber in the bound;
        and everything the subscriber received meanwhile."""
        assert self.pair is not None
        self.markers += 1
        marker = f"alive-{self.markers}".encode()
        name = self.pair.sub.name
        received = exchange([(self.pair.pub, [b"probe.ok", marker])], [self.pair.sub],
                            done=lambda r: has_marker(r, name, marker), window=self.bound_s, settle=0.05)
        return has_marker(received, name, marker), received.get(name, [])

    def _malformed(self, got: list[list[bytes]], since: str) -> list[Finding]:
        """Subscribers may only ever receive [topic, payload], the topic well formed and inside their grant."""
        assert self.broker is not None
        limit = self.broker.max_message_bytes
        bad = [m for m in got if len(m) != 2 or not _TOPIC.fullmatch(m[0]) or len(m[0]) > 255
               or not m[0].startswith(NAMESPACE) or any(len(f) > limit for f in m)]
        if not bad:
            return []
        shapes = sorted({f"{len(m)} frames, topic {m[0][:24]!r}" for m in bad})[:3]
        return [Finding(self.name, DELIVERED_MALFORMED, f"{len(bad)} malformed message(s) delivered: {shapes}",
                        since)]

    def finish(self) -> list[Finding]:
        return self._check("after the last input")

    def teardown(self) -> None:
        if self.probe is not None:
            self.probe.close()
            self.probe = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
