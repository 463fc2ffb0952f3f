"""The bus listens on loopback or IPC only, judged by the OS socket table, not by what the build says (BUS-005).

A socket table that cannot be read completely (access denied) is "could not probe", which fails.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.probes.bus import RecordingSink, endpoint_port, is_loopback_endpoint
from aico_secure.probes.listeners import ListenerProbeUnavailable, own_listeners, tcp_listeners
from aico_secure.target.bus import BusCapability


@pytest.mark.requirement("AICO-BUS-005")
def test_bus_binds_loopback_only(bus: BusCapability, tmp_path: Path,
                                 evidence: Callable[[str, object], None]) -> None:
    try:
        before = {(x.host, x.port) for x in own_listeners()}
        broker = bus.start(tmp_path / "bus", audit=RecordingSink())
        try:
            reported = [*broker.bound_endpoints(), broker.publish_endpoint, broker.subscribe_endpoint]
            opened = [x for x in own_listeners() if (x.host, x.port) not in before]
            ports = {p for p in map(endpoint_port, reported) if p is not None}
            kernel = [x for x in tcp_listeners() if x.port in ports]
        finally:
            broker.stop()
    except ListenerProbeUnavailable as exc:
        pytest.fail(f"could not probe the bus listeners: {exc}")
    evidence("reported endpoints", sorted(set(reported)))
    evidence("listeners opened by the build", sorted(f"{x.host}:{x.port}" for x in opened))
    assert broker.bound_endpoints(), "the build reports no bound endpoint: nothing to check"
    exposed = sorted({e for e in reported if not is_loopback_endpoint(e)})
    assert not exposed, f"bus bound beyond loopback (reported by the build): {exposed}"
    if ports:
        assert kernel, f"the OS socket table shows no listener on the reported ports {sorted(ports)}"
    wide = sorted({f"{x.host}:{x.port}" for x in opened + kernel if not x.loopback})
    assert not wide, f"bus sockets listening beyond loopback (OS socket table): {wide}"
