"""Who gets on the bus: CURVE only (BUS-001), listed keys only (BUS-002), the real broker only (BUS-003).

Every negative probe runs next to an allowed publisher/subscriber pair in the same window: the allowed
subscriber must receive, which proves the window was long enough for the refused client to have succeeded.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import zmq

from aico_secure.conform.checks import find_leaks
from aico_secure.probes.bus import (
    BusProbe,
    ProbeClient,
    ProbePair,
    RecordingSink,
    exchange,
    has_marker,
    payloads,
    reachable_form,
)
from aico_secure.probes.listeners import ListenerProbeUnavailable, own_listeners
from aico_secure.target.bus import BusBroker, BusCapability


def _probe_refused(probe: BusProbe, pair: ProbePair, make_sub: Callable[[], ProbeClient],
                   make_pub: Callable[[], ProbeClient]) -> None:
    """A refused client, as subscriber and as publisher, next to the allowed pair."""
    bad_sub = make_sub()
    bad_pub = make_pub()
    received = exchange(
        [(pair.pub, [b"probe.news", b"allowed-payload"]), (bad_pub, [b"probe.news", b"intruder-payload"])],
        [pair.sub, bad_sub],
        done=lambda r: has_marker(r, pair.sub.name, b"allowed-payload"),
        window=4.0, settle=0.3,
    )
    assert has_marker(received, pair.sub.name, b"allowed-payload"), "positive control: allowed pair got nothing"
    assert not payloads(received, bad_sub.name), f"{bad_sub.name} subscriber received bus traffic"
    assert not has_marker(received, pair.sub.name, b"intruder-payload"), f"{bad_pub.name} publisher got through"
    assert not bad_sub.handshake_succeeded, f"{bad_sub.name} subscriber completed a handshake with the broker"
    assert not bad_pub.handshake_succeeded, f"{bad_pub.name} publisher completed a handshake with the broker"


@pytest.mark.requirement("AICO-BUS-001")
@pytest.mark.parametrize("mechanism", ["null", "plain"])
def test_bus_non_curve_clients_get_nothing(probe: BusProbe, pair: ProbePair, mechanism: str) -> None:
    make = probe.null if mechanism == "null" else probe.plain
    _probe_refused(probe, pair, lambda: make(zmq.SUB, subscribe=[b""]), lambda: make(zmq.PUB))


@pytest.mark.requirement("AICO-BUS-001")
def test_bus_every_listener_refuses_null_clients(bus: BusCapability, tmp_path: Path,
                                                 evidence: Callable[[str, object], None]) -> None:
    """Not only the documented endpoints: every socket the build bound, reported or found in the kernel table."""
    try:
        before = {(x.host, x.port) for x in own_listeners()}
    except ListenerProbeUnavailable as exc:
        pytest.fail(f"could not probe the bus listeners: {exc}")
    broker = bus.start(tmp_path / "bus-listeners", audit=RecordingSink())
    probe = BusProbe(broker)
    try:
        found = [*broker.bound_endpoints(), broker.publish_endpoint, broker.subscribe_endpoint]
        try:
            opened = [x for x in own_listeners() if (x.host, x.port) not in before]
        except ListenerProbeUnavailable as exc:
            pytest.fail(f"could not probe the bus listeners: {exc}")
        found += [f"tcp://[{x.host}]:{x.port}" if ":" in x.host else f"tcp://{x.host}:{x.port}" for x in opened]
        endpoints = sorted({reachable_form(e) for e in found})
        evidence("endpoints probed with NULL clients", endpoints)
        pair = ProbePair.enroll(broker, probe)
        subs = [probe.null(zmq.SUB, endpoint=e, subscribe=[b""]) for e in endpoints]
        pubs = [probe.null(zmq.PUB, endpoint=e) for e in endpoints]
        received = exchange(
            [(pair.pub, [b"probe.news", b"allowed-payload"])] + [(p, [b"probe.news", b"intruder"]) for p in pubs],
            [pair.sub, *subs], done=lambda r: has_marker(r, pair.sub.name, b"allowed-payload"), settle=0.3)
        assert has_marker(received, pair.sub.name, b"allowed-payload"), "positive control: allowed pair got nothing"
        assert not has_marker(received, pair.sub.name, b"intruder"), "a NULL publisher got a message through"
        leaked = [s.name for s in subs if payloads(received, s.name)]
        assert not leaked, f"NULL subscribers received bus traffic on {leaked}"
        accepted = [c.name for c in subs + pubs if c.handshake_succeeded]
        assert not accepted, f"a bus socket completed a NULL handshake: {accepted} (endpoints {endpoints})"
    finally:
        probe.close()
        broker.stop()


@pytest.mark.requirement("AICO-BUS-002")
def test_bus_unlisted_curve_key_gets_nothing(probe: BusProbe, pair: ProbePair) -> None:
    _probe_refused(probe, pair, lambda: probe.stranger(zmq.SUB, subscribe=[b"", b"probe."]),
                   lambda: probe.stranger(zmq.PUB))


@pytest.mark.requirement("AICO-BUS-002")
def test_bus_component_secret_keys_only_in_private_files(broker: BusBroker, tmp_path: Path,
                                                         evidence: Callable[[str, object], None]) -> None:
    creds = [broker.enroll(f"keyholder-{i}", publish=["probe."]) for i in range(2)]
    secrets = {}
    for c in creds:
        secrets[f"{c.component}:z85"] = c.secret_key.reveal()
        secrets[f"{c.component}:raw"] = zmq.utils.z85.decode(c.secret_key.reveal())
    assert all(c.public_key != c2.public_key for c in creds for c2 in creds if c is not c2)
    result = find_leaks(tmp_path / "bus", secrets=secrets)
    assert result.files_read > 0, "the broker wrote no files: nothing was checked"
    holders = {Path(result.root) / f.path for f in result.findings}
    exposed = sorted(str(p) for p in holders if os.stat(p).st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    assert not exposed, f"component secret keys in files readable by group/others: {exposed}"
    evidence("files holding component secrets (all private)", len(holders))


@pytest.mark.requirement("AICO-BUS-003")
def test_bus_client_with_wrong_server_key_gets_nothing(probe: BusProbe, pair: ProbePair, broker: BusBroker) -> None:
    creds = broker.enroll("impostor-victim", publish=["probe."], subscribe=["probe."])
    _probe_refused(probe, pair, lambda: probe.wrong_server(creds, zmq.SUB, subscribe=[b"probe."]),
                   lambda: probe.wrong_server(creds, zmq.PUB))


@pytest.mark.requirement("AICO-BUS-003")
def test_bus_server_key_is_per_installation(bus: BusCapability, broker: BusBroker, tmp_path: Path) -> None:
    """A broker key shipped in source authenticates nothing: anyone holding the source can be the broker."""
    key = broker.server_key
    assert len(key) == 40 and len(zmq.utils.z85.decode(key)) == 32, "server_key is not a Z85 CURVE public key"
    other = bus.start(tmp_path / "other-install")
    try:
        assert other.server_key != key, "two installations share one broker key pair (a constant in the build?)"
    finally:
        other.stop()
