"""A running broker on 127.0.0.1 with the fuzz harness's two enrolled components, for the tests that check what
the bus harnesses fuzz in-process against the real thing (CURVE, ZAP, the broker's counters)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import zmq

from aico_secure.fuzz._harness import bus_frame
from aico_secure.transport.bus.broker import Broker, BrokerConfig
from aico_secure.transport.bus.client import curve_socket
from aico_secure.transport.bus.keys import CurveKeyPair

WAIT = 5.0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


class RunningBus:
    """A running broker with the harness's two live sessions and a subscriber of the writer's grant."""

    def __init__(self, directory: Path) -> None:
        self.broker = Broker.start(BrokerConfig(directory))
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.pairs: dict[str, CurveKeyPair] = {}
        self.publishers: dict[str, zmq.Socket[bytes]] = {}
        for component in (bus_frame.WRITER, bus_frame.READER):
            publish, subscribe = bus_frame.GRANTS[component]
            self.pairs[component] = self.broker.enroll(component, publish=publish, subscribe=subscribe)[1]
            self.publishers[component] = self.client(component, zmq.PUB, self.broker.publish_endpoint)
        self.subscriber = self.client(bus_frame.WRITER, zmq.SUB, self.broker.subscribe_endpoint)
        self.subscriber.setsockopt(zmq.SUBSCRIBE, bus_frame.GRANTS[bus_frame.WRITER][1][0].encode())

    def client(self, component: str, kind: int, endpoint: str) -> zmq.Socket[bytes]:
        sock = curve_socket(self.context, kind, self.pairs[component], self.broker.server_keys.public)
        sock.connect(endpoint)
        return sock

    def counters(self) -> tuple[int, int, int]:
        stats = self.broker.stats
        return stats.forwarded, stats.denied_publish, stats.malformed

    def relays(self, publisher: zmq.Socket[bytes], marker: bytes) -> bool:
        """Publish ``marker`` on the writer's grant until it arrives at the subscriber (or time runs out)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            publisher.send_multipart([b"conversation.marker", marker])
            if self.subscriber.poll(50):
                while self.subscriber.poll(0):
                    if self.subscriber.recv_multipart()[-1] == marker:
                        return True
        return False

    def settle(self, quiet: float = 0.3) -> None:
        """Wait until warm-up messages still in flight are counted, so each input's effect is its own."""
        deadline, last = time.monotonic() + WAIT, self.counters()
        while True:
            time.sleep(quiet)
            now = self.counters()
            if now == last:
                return
            assert time.monotonic() < deadline, "the broker's counters never settled"
            last = now

    def close(self) -> None:
        self.context.destroy(linger=0)
        self.broker.stop()

    def __enter__(self) -> RunningBus:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
