"""What an observer of the bus connection sees: ciphertext only (BUS-006).

Two views. The connections the suite opens are relayed and searched for a canary (the probe clients speak
CURVE, so this shows the broker's CURVE sessions carry no readable payload). That alone cannot fail for a build
that also serves traffic elsewhere, so every socket the bus listens on, reported by the build or found in the OS
socket table (TCP and IPC), must also greet with the CURVE mechanism: a NULL or PLAIN listener sends every frame
in the clear to whichever peer it admits, even when a ZAP rule keeps the suite's own probes out.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
import zmq

from aico_secure.conform.checks import find_leaks
from aico_secure.probes.bus import BusProbe, ProbePair, RecordingSink, exchange, has_marker, reachable_form, relay_for
from aico_secure.probes.listeners import ListenerProbeUnavailable, own_listeners, unix_socket_paths
from aico_secure.probes.zmtp import read_greeting
from aico_secure.target.bus import BusBroker, BusCapability


@pytest.mark.requirement("AICO-BUS-006")
def test_bus_wire_carries_no_readable_payload(broker: BusBroker, probe: BusProbe, tmp_path: Path,
                                              evidence: Callable[[str, object], None]) -> None:
    token = secrets.token_hex(8)
    canary = f"CANARY-bus-wire-{token}-the user's diary entry"
    topic = f"diary.entry-{token}".encode()
    writer = broker.enroll("diary-writer", publish=["diary."])
    reader = broker.enroll("diary-reader", subscribe=["diary."])
    capture = tmp_path / "capture"
    with relay_for(broker.publish_endpoint, capture / "pub") as up, \
            relay_for(broker.subscribe_endpoint, capture / "sub") as down:
        pub = probe.allowed(writer, zmq.PUB, endpoint=up.endpoint)
        sub = probe.allowed(reader, zmq.SUB, endpoint=down.endpoint, subscribe=[b"diary."])
        received = exchange([(pub, [topic, canary.encode()])], [sub],
                            done=lambda r: has_marker(r, sub.name, canary.encode()), window=5.0, settle=0.2)
        probe.discard(pub)
        probe.discard(sub)
    assert has_marker(received, sub.name, canary.encode()), "positive control: the canary never crossed the relay"
    assert up.bytes_up > len(canary) and down.bytes_down > len(canary), "the relay saw no traffic"
    result = find_leaks(capture, canaries=[canary, token])
    evidence("bytes observed on the wire", up.bytes_up + up.bytes_down + down.bytes_up + down.bytes_down)
    assert result.files_read > 0
    assert not result.findings, "readable bus payload or topic on the wire: " + "; ".join(
        f"{f.path}@{f.offset} ({f.encoding})" for f in result.findings[:5])


def _bus_sockets() -> tuple[set[str], set[str]]:
    """Endpoints of every TCP listener and named UNIX socket of this process tree, in ZeroMQ's spelling."""
    try:
        tcp = {f"tcp://[{x.host}]:{x.port}" if ":" in x.host else f"tcp://{x.host}:{x.port}" for x in own_listeners()}
        return tcp, {f"ipc://{path}" for path in unix_socket_paths()}
    except ListenerProbeUnavailable as exc:
        pytest.fail(f"could not probe the bus listeners: {exc}")


@pytest.mark.requirement("AICO-BUS-006")
def test_bus_every_listener_speaks_curve(bus: BusCapability, tmp_path: Path,
                                         evidence: Callable[[str, object], None]) -> None:
    before_tcp, before_ipc = _bus_sockets()
    broker = bus.start(tmp_path / "bus-wire", audit=RecordingSink())
    probe = BusProbe(broker)
    try:
        pair = ProbePair.enroll(broker, probe)  # traffic flowing, so sockets a build opens on first use exist
        received = exchange([(pair.pub, [b"probe.wire", b"warm-up"])], [pair.sub],
                            done=lambda r: has_marker(r, pair.sub.name, b"warm-up"), settle=0.2)
        assert has_marker(received, pair.sub.name, b"warm-up"), "positive control: the allowed pair got nothing"
        after_tcp, after_ipc = _bus_sockets()
        found = {*broker.bound_endpoints(), broker.publish_endpoint, broker.subscribe_endpoint,
                 *(after_tcp - before_tcp), *(after_ipc - before_ipc)}
        endpoints = sorted({reachable_form(e) for e in found if e.startswith(("tcp://", "ipc://"))})
        greetings = [read_greeting(e) for e in endpoints]
    finally:
        probe.close()
        broker.stop()
    evidence("endpoints without a wire (in-process)", sorted(e for e in found if not e.startswith(("tcp:", "ipc:"))))
    evidence("security mechanism of every bus listener", {g.endpoint: str(g) for g in greetings})
    assert greetings, "the build reports no tcp:// or ipc:// endpoint and none was found: nothing was checked"
    clear = {g.endpoint: str(g) for g in greetings if not g.encrypted}
    assert not clear, f"bus listeners that do not encrypt their traffic (CURVE required): {clear}"
