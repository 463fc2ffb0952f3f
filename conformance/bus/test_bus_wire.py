"""What an observer of the bus connection sees: ciphertext only (BUS-006)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
import zmq

from aico_secure.conform.checks import find_leaks
from aico_secure.probes.bus import BusProbe, exchange, has_marker, relay_for
from aico_secure.target.bus import BusBroker


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
