"""Malformed frames, oversize messages and garbage on the bus port (BUS-008)."""

from __future__ import annotations

import socket
import time

import pytest
import zmq

from aico_secure.probes.bus import (
    ZMTP_CURVE_GREETING,
    BusProbe,
    ProbePair,
    exchange,
    garbage_payloads,
    has_marker,
    payloads,
    raw_connection,
    tcp_address,
)
from aico_secure.target.bus import BusBroker

MALFORMED = [
    [b"probe.single-frame-MALFORMED-1"],
    [b"probe.three", b"MALFORMED-2", b"extra frame"],
    [b"probe.bad topic", b"MALFORMED-3"],
    [b"probe.\xff\xfe", b"MALFORMED-4"],
    [b"probe." + b"x" * 300, b"MALFORMED-5"],
    [b"probe..empty-segment", b"MALFORMED-6"],
]


@pytest.mark.requirement("AICO-BUS-008")
def test_bus_drops_malformed_and_oversize_messages(broker: BusBroker, probe: BusProbe, pair: ProbePair) -> None:
    limit = broker.max_message_bytes
    assert 0 < limit <= 64 << 20, f"max_message_bytes {limit} is not a usable limit"
    rogue = broker.enroll("rogue", publish=["probe."])
    rogue_pub = probe.allowed(rogue, zmq.PUB)
    sends = [(rogue_pub, m) for m in MALFORMED]
    sends.append((rogue_pub, [b"probe.big", b"OVERSIZE" + b"\0" * limit]))
    # One client's messages reach the broker in order: this one arrives only if the broker is still serving
    # after handling every malformed message before it (another client's message may overtake them).
    sends.append((rogue_pub, [b"probe.ok", b"after-the-malformed"]))
    sends.append((pair.pub, [b"probe.ok", b"valid-message"]))
    markers = (b"valid-message", b"after-the-malformed")
    received = exchange(sends, [pair.sub], done=lambda r: all(has_marker(r, pair.sub.name, m) for m in markers),
                        window=5.0, settle=0.3)
    assert has_marker(received, pair.sub.name, b"valid-message"), "the broker stopped serving allowed clients"
    assert has_marker(received, pair.sub.name, b"after-the-malformed"), (
        "a valid message sent after the malformed ones was not delivered: the broker stopped serving")
    leaked = [f[:40] for f in payloads(received, pair.sub.name) if b"MALFORMED" in f or b"OVERSIZE" in f]
    assert not leaked, f"malformed or oversize messages were delivered: {leaked[:3]}"
    shapes = {len(m) for m in received[pair.sub.name]}
    assert shapes == {2}, f"subscribers received messages that are not [topic, payload]: frame counts {shapes}"


@pytest.mark.requirement("AICO-BUS-008")
def test_bus_survives_garbage_and_half_open_handshakes(broker: BusBroker, probe: BusProbe, pair: ProbePair) -> None:
    endpoints = [broker.publish_endpoint, broker.subscribe_endpoint]
    tcp = [e for e in endpoints if e.startswith("tcp://")]
    for endpoint in tcp:
        for blob in garbage_payloads():
            raw_connection(endpoint, blob, hold=0.05)
    held: list[socket.socket] = []
    try:
        for endpoint in tcp:  # handshakes that start and never finish, held open during the exchange
            for _ in range(5):
                conn = socket.create_connection(tcp_address(endpoint), timeout=2)
                conn.sendall(ZMTP_CURVE_GREETING[:11])
                held.append(conn)
        time.sleep(0.1)
        received = exchange([(pair.pub, [b"probe.ok", b"still-serving"])], [pair.sub],
                            done=lambda r: has_marker(r, pair.sub.name, b"still-serving"), window=5.0, settle=0)
        assert has_marker(received, pair.sub.name, b"still-serving"), \
            "allowed clients were not served after garbage / during half-open handshakes"
        late = probe.allowed(broker.enroll("late-joiner", subscribe=["probe."]), zmq.SUB, subscribe=[b"probe."])
        again = exchange([(pair.pub, [b"probe.ok", b"new-session"])], [late],
                         done=lambda r: has_marker(r, late.name, b"new-session"), window=5.0, settle=0)
        assert has_marker(again, late.name, b"new-session"), "new allowed sessions fail while junk is held open"
    finally:
        for conn in held:
            conn.close()
