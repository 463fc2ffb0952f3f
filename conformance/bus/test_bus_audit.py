"""Failed bus authentications are counted and reach the audit layer (BUS-009)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import zmq

from aico_secure.conform.checks import text_contains_secret
from aico_secure.probes.bus import BusProbe, ProbeClient, ProbePair, RecordingSink, exchange, has_marker
from aico_secure.target.bus import BusBroker


def _wait_for_increase(broker: BusBroker, before: int, timeout: float = 3.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = broker.auth_failures()
        if now > before:
            return now
        time.sleep(0.02)
    return broker.auth_failures()


@pytest.mark.requirement("AICO-BUS-009")
def test_bus_auth_failures_are_counted_and_audited(broker: BusBroker, probe: BusProbe, pair: ProbePair,
                                                   audit_sink: RecordingSink,
                                                   evidence: Callable[[str, object], None]) -> None:
    victim = broker.enroll("victim", subscribe=["probe."])
    attempts: dict[str, Callable[[], ProbeClient]] = {
        "null": lambda: probe.null(zmq.SUB),
        "plain": lambda: probe.plain(zmq.SUB),
        "unlisted-key": lambda: probe.stranger(zmq.SUB),
        "wrong-server-key": lambda: probe.wrong_server(victim, zmq.SUB),
    }
    start = broker.auth_failures()
    missed = []
    for name, make in attempts.items():
        before = broker.auth_failures()
        client = make()
        after = _wait_for_increase(broker, before)
        probe.discard(client)
        if after <= before:
            missed.append(name)
    assert not missed, f"failed authentications not counted: {missed}"
    time.sleep(0.3)
    total = broker.auth_failures() - start
    events = audit_sink.events(category="auth", result="failure")
    evidence("auth failures counted", total)
    evidence("auth failure audit events", len(events))
    assert events, "no AuditEvent(category='auth', result='failure') reached the audit sink"
    assert len(events) >= total, f"{total} failures counted but only {len(events)} reported to the audit sink"
    secrets = {"victim secret key": victim.secret_key.reveal(),
               "victim secret raw": zmq.utils.z85.decode(victim.secret_key.reveal())}
    leaked = text_contains_secret(" ".join(repr(e) for e in events), secrets)
    assert not leaked, f"audit events carry key material: {leaked}"

    quiet = broker.auth_failures()
    received = exchange([(pair.pub, [b"probe.ok", b"allowed"])], [pair.sub],
                        done=lambda r: has_marker(r, pair.sub.name, b"allowed"), settle=0.2)
    assert has_marker(received, pair.sub.name, b"allowed"), "positive control: allowed pair got nothing"
    assert broker.auth_failures() == quiet, "allowed clients were counted as authentication failures"
