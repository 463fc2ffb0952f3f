"""Rotating and revoking a component key while the bus runs (BUS-007)."""

from __future__ import annotations

import time

import pytest
import zmq

from aico_secure.probes.bus import BusProbe, ProbeClient, exchange, has_marker
from aico_secure.target.bus import BusBroker


def _drain(*clients: ProbeClient) -> None:
    """Throw away what was queued before the change, so only later deliveries are judged."""
    deadline = time.monotonic() + 0.15
    while time.monotonic() < deadline:
        for c in clients:
            try:
                while True:
                    c.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                pass
        time.sleep(0.02)


@pytest.mark.requirement("AICO-BUS-007")
def test_bus_rotated_subscriber_key_is_refused(broker: BusBroker, probe: BusProbe) -> None:
    source = broker.enroll("source", publish=["rot."])
    old = broker.enroll("listener", subscribe=["rot."])
    pub = probe.allowed(source, zmq.PUB)
    old_sub = probe.allowed(old, zmq.SUB, subscribe=[b"rot."])
    before = exchange([(pub, [b"rot.tick", b"before-rotation"])], [old_sub],
                      done=lambda r: has_marker(r, old_sub.name, b"before-rotation"), settle=0)
    assert has_marker(before, old_sub.name, b"before-rotation"), "positive control: the first key never worked"

    new = broker.rotate("listener")
    assert new.public_key != old.public_key, "rotation returned the same key"
    _drain(old_sub)
    new_sub = probe.allowed(new, zmq.SUB, subscribe=[b"rot."])
    fresh_old = probe.curve("revoked-key-new-session", zmq.SUB, old.public_key, old.secret_key.reveal(),
                            broker.server_key, subscribe=[b"rot."])
    after = exchange([(pub, [b"rot.tick", b"after-rotation"])], [new_sub, old_sub, fresh_old],
                     done=lambda r: has_marker(r, new_sub.name, b"after-rotation"), window=5.0, settle=0.3)
    assert has_marker(after, new_sub.name, b"after-rotation"), "the rotated-in key is not admitted"
    assert not has_marker(after, old_sub.name, b"after-rotation"), \
        "the session opened with the old key still receives after rotation"
    assert not has_marker(after, fresh_old.name, b"after-rotation"), "a new session with the old key receives"
    assert not fresh_old.handshake_succeeded, "the old key still completes a handshake after rotation"


@pytest.mark.requirement("AICO-BUS-007")
def test_bus_rotated_publisher_and_revoked_component(broker: BusBroker, probe: BusProbe) -> None:
    old = broker.enroll("sensor", publish=["rot."])
    reader = broker.enroll("reader", subscribe=["rot."])
    old_pub = probe.allowed(old, zmq.PUB)
    sub = probe.allowed(reader, zmq.SUB, subscribe=[b"rot."])
    before = exchange([(old_pub, [b"rot.reading", b"old-key-before"])], [sub],
                      done=lambda r: has_marker(r, sub.name, b"old-key-before"), settle=0)
    assert has_marker(before, sub.name, b"old-key-before"), "positive control: the first key never worked"

    new = broker.rotate("sensor")
    new_pub = probe.allowed(new, zmq.PUB)
    _drain(sub)
    after = exchange([(new_pub, [b"rot.reading", b"new-key"]), (old_pub, [b"rot.reading", b"old-key-after"])],
                     [sub], done=lambda r: has_marker(r, sub.name, b"new-key"), window=5.0, settle=0.3)
    assert has_marker(after, sub.name, b"new-key"), "the rotated-in publisher key is not admitted"
    assert not has_marker(after, sub.name, b"old-key-after"), "messages signed by the old key still get through"

    broker.revoke("sensor")
    _drain(sub)
    control = broker.enroll("control", publish=["rot."])
    control_pub = probe.allowed(control, zmq.PUB)
    revoked = exchange([(control_pub, [b"rot.reading", b"control"]), (new_pub, [b"rot.reading", b"revoked"])],
                       [sub], done=lambda r: has_marker(r, sub.name, b"control"), window=5.0, settle=0.3)
    assert has_marker(revoked, sub.name, b"control"), "positive control: the bus stopped serving after a revoke"
    assert not has_marker(revoked, sub.name, b"revoked"), "a revoked component still publishes"
    with pytest.raises(KeyError):
        broker.rotate("never-enrolled")
