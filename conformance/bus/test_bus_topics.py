"""Topic permissions are the broker's decision, not the client's (BUS-004)."""

from __future__ import annotations

import pytest
import zmq

from aico_secure.probes.bus import BusProbe, exchange, has_marker, payloads
from aico_secure.target.bus import BusBroker


@pytest.mark.requirement("AICO-BUS-004")
def test_bus_publish_outside_grant_reaches_nobody(broker: BusBroker, probe: BusProbe) -> None:
    alpha = broker.enroll("alpha", publish=["alpha."])
    beta = broker.enroll("beta", publish=["beta."])
    watcher = broker.enroll("watcher", subscribe=["alpha.", "beta."])
    a_pub, b_pub = probe.allowed(alpha, zmq.PUB), probe.allowed(beta, zmq.PUB)
    sub = probe.allowed(watcher, zmq.SUB, subscribe=[b"alpha.", b"beta."])
    received = exchange(
        [(b_pub, [b"beta.status", b"legit-beta"]), (a_pub, [b"alpha.status", b"legit-alpha"]),
         (a_pub, [b"beta.status", b"forged-by-alpha"])],
        [sub],
        done=lambda r: has_marker(r, sub.name, b"legit-beta") and has_marker(r, sub.name, b"legit-alpha"),
        window=4.0, settle=0.3,
    )
    assert has_marker(received, sub.name, b"legit-beta"), "positive control: beta's own topic was not delivered"
    assert has_marker(received, sub.name, b"legit-alpha"), "positive control: alpha's own topic was not delivered"
    assert not has_marker(received, sub.name, b"forged-by-alpha"), "alpha published on beta's topic"


@pytest.mark.requirement("AICO-BUS-004")
def test_bus_subscription_outside_grant_delivers_nothing(broker: BusBroker, probe: BusProbe) -> None:
    secret_src = broker.enroll("memory", publish=["memory.", "memoryless."])
    granted = broker.enroll("granted", subscribe=["memory."])
    nosy = broker.enroll("nosy", subscribe=["chat."])
    prefixer = broker.enroll("prefixer", subscribe=["memory."])
    pub = probe.allowed(secret_src, zmq.PUB)
    ok = probe.allowed(granted, zmq.SUB, subscribe=[b"memory."])
    # nosy asks for a namespace it was not granted, for everything, and for a prefix of it
    bad = probe.allowed(nosy, zmq.SUB, subscribe=[b"memory.", b"", b"mem"])
    # prefixer holds "memory." but subscribes to "memory", which would also match "memoryless.*"
    wide = probe.allowed(prefixer, zmq.SUB, subscribe=[b"memory"])
    received = exchange(
        [(pub, [b"memory.fact", b"private-fact"]), (pub, [b"memoryless.note", b"outside-grant"])],
        [ok, bad, wide],
        done=lambda r: has_marker(r, ok.name, b"private-fact"),
        window=4.0, settle=0.3,
    )
    assert has_marker(received, ok.name, b"private-fact"), "positive control: granted subscriber got nothing"
    assert not payloads(received, bad.name), "a component received a namespace it was not granted"
    assert not has_marker(received, wide.name, b"outside-grant"), \
        "a subscription prefix reaching beyond the grant ('memory' for 'memory.') delivered another namespace"
