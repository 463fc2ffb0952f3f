"""The bus harnesses against the real thing: what they fuzz in-process must hold on a running broker too.

``bus_frame`` hands frames to the broker's per-message code without sockets; here every stored ``bus_frame``
input is published by an enrolled client over CURVE and ZAP on 127.0.0.1, the broker's counters must move
exactly as the harness's ``expected`` says, and the broker must still relay an allowed message at the end
(AICO-BUS-008). The ZAP handler's fixed crash is pinned here too, since the real handler runs on a thread whose
death no replay would notice: after the request that used to kill it, a new client must still be admitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from aico_secure.fuzz import replay
from aico_secure.fuzz._harness import bus_frame, zap_request
from verification.transport.running_bus import WAIT, RunningBus, wait_for

# If the ZAP thread dies again, ``Broker.stop`` blocks on its TERMINATE message: fail, never hang CI.
pytestmark = pytest.mark.timeout(120)
FUZZ = Path(__file__).resolve().parents[2] / "fuzz"


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[RunningBus]:
    with RunningBus(tmp_path / "bus") as running:
        yield running


def test_every_bus_frame_input_is_answered_by_a_real_broker_as_in_process(bus: RunningBus) -> None:
    stored = [(p.name, p.read_bytes()) for p in replay.inputs([FUZZ / "corpus" / "bus_frame",
                                                                FUZZ / "regressions" / "bus_frame"])]
    assert stored, "no bus_frame corpus to replay"
    inputs = stored + list(bus_frame.HARNESS.seeds())  # the seeds add every outcome on every live session
    assert bus.relays(bus.publishers[bus_frame.WRITER], b"ready"), "the broker never relayed an allowed message"
    reader, before = bus.publishers[bus_frame.READER], bus.broker.stats.denied_publish

    def reader_is_heard() -> bool:  # a PUB drops what it sends before its session is up: send until one counts
        reader.send_multipart([b"conversation.x", b""])
        return bus.broker.stats.denied_publish > before

    wait_for(reader_is_heard, "the reader's session")
    bus.settle()
    disagreements = []
    for name, data in inputs:
        sender, frames = bus_frame.decode(data)
        # Sessions of rotated or revoked keys cannot be opened on a real broker: their frames go as the writer's.
        sender = sender if sender in bus.publishers else bus_frame.WRITER
        want = bus_frame.expected(sender, frames)
        before_counts = bus.counters()
        bus.publishers[sender].send_multipart(frames)
        wait_for(lambda: sum(bus.counters()) > sum(before_counts), f"the broker to answer {name}")
        moved = [name for name, a, b in zip(("forwarded", "denied", "malformed"), before_counts, bus.counters(),
                                            strict=True) if b != a]
        if moved != [want]:
            disagreements.append(f"{name} ({sender}, {len(frames)} frames): {moved} != [{want!r}]")
    assert not disagreements, "\n".join(disagreements)
    oversize = bus.client(bus_frame.WRITER, zmq.PUB, bus.broker.publish_endpoint)
    oversize.send_multipart([b"conversation.big", b"x" * (bus.broker.config.max_message_bytes + 1)])
    assert bus.broker.is_alive(), f"the broker loop stopped: {bus.broker.failure!r}"
    assert bus.relays(bus.publishers[bus_frame.WRITER], b"still-serving"), "the broker stopped relaying"


@pytest.mark.parametrize("path", list(replay.inputs([FUZZ / "regressions" / "zap_request"])), ids=lambda p: p.name)
def test_a_zap_request_that_once_crashed_the_handler_leaves_the_bus_open(bus: RunningBus, path: Path) -> None:
    """Sent to the running broker's own ZAP endpoint, then a new client must still get through the handshake:
    an exception on the authenticator thread would leave every later handshake unanswered."""
    frames = zap_request.decode(path.read_bytes())
    requester = bus.broker._context.socket(zmq.REQ)
    requester.linger = 0
    requester.rcvtimeo = int(WAIT * 1000)
    try:
        requester.connect("inproc://zeromq.zap.01")
        requester.send_multipart(frames)
        if len(frames) >= 2:
            assert requester.recv_multipart()[2] == b"400", "a malformed ZAP request was not refused"
    finally:
        requester.close(0)
    late = bus.client(bus_frame.WRITER, zmq.PUB, bus.broker.publish_endpoint)
    assert bus.relays(late, b"admitted-after"), "a new allowed client was not admitted after that ZAP request"
