"""A revoked key stays refused when its component name is enrolled again (BUS-007).

Operators re-enroll a component under its old name after revoking it (a reinstalled plugin, a replaced device).
The old key, and every session opened with it before the revocation, must stay shut out: a build that keys
sessions by component name, or that reuses a per-component counter, lets the revoked key back in the moment the
name is live again. The contract does not say whether a revoked name may be enrolled again, so a build that
refuses the re-enrollment (``ValueError``) passes as long as the old key stays refused.
"""

from __future__ import annotations

import time

import pytest
import zmq

from aico_secure.probes.bus import BusProbe, ProbeClient, exchange, has_marker
from aico_secure.target.bus import BusBroker, BusCredentials


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
def test_bus_revoked_key_stays_refused_after_the_name_is_enrolled_again(broker: BusBroker,
                                                                        probe: BusProbe) -> None:
    old = broker.enroll("reused", publish=["again."], subscribe=["again."])
    source = broker.enroll("again-source", publish=["again."])
    reader = broker.enroll("again-reader", subscribe=["again."])
    old_pub = probe.allowed(old, zmq.PUB)
    old_sub = probe.allowed(old, zmq.SUB, subscribe=[b"again."])
    src_pub = probe.allowed(source, zmq.PUB)
    sub = probe.allowed(reader, zmq.SUB, subscribe=[b"again."])
    before = exchange([(old_pub, [b"again.x", b"old-before"]), (src_pub, [b"again.x", b"src-before"])],
                      [sub, old_sub],
                      done=lambda r: has_marker(r, sub.name, b"old-before") and has_marker(r, old_sub.name,
                                                                                           b"src-before"),
                      settle=0)
    assert has_marker(before, sub.name, b"old-before"), "positive control: the first key never published"
    assert has_marker(before, old_sub.name, b"src-before"), "positive control: the first key never received"

    broker.revoke("reused")
    try:
        new: BusCredentials | None = broker.enroll("reused", publish=["again."], subscribe=["again."])
    except ValueError:
        new = None  # the build retires revoked names: allowed, the old key must still be refused
    _drain(sub, old_sub)
    fresh_old = probe.curve("revoked-key-after-reenroll", zmq.SUB, old.public_key, old.secret_key.reveal(),
                            broker.server_key, subscribe=[b"again."])
    receivers = [sub, old_sub, fresh_old]
    sends = [(src_pub, [b"again.x", b"src-after"]), (old_pub, [b"again.x", b"old-after"])]
    if new is not None:
        assert new.public_key != old.public_key, "re-enrollment handed out the revoked key again"
        new_pub = probe.allowed(new, zmq.PUB)
        sends.append((new_pub, [b"again.x", b"new-after"]))
    after = exchange(sends, receivers,
                     done=lambda r: has_marker(r, sub.name, b"src-after")
                     and (new is None or has_marker(r, sub.name, b"new-after")),
                     window=5.0, settle=0.4)
    assert has_marker(after, sub.name, b"src-after"), "positive control: the bus stopped serving"
    if new is not None:
        assert has_marker(after, sub.name, b"new-after"), "the re-enrolled component's new key is not admitted"
    assert not has_marker(after, sub.name, b"old-after"), "the revoked key publishes again after re-enrollment"
    assert not has_marker(after, old_sub.name, b"src-after"), \
        "a session opened with the revoked key receives again after re-enrollment"
    assert not has_marker(after, fresh_old.name, b"src-after"), "a new session with the revoked key receives"
    assert not fresh_old.handshake_succeeded, "the revoked key completes a handshake after re-enrollment"
