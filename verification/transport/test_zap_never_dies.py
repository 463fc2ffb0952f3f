"""Whatever goes wrong inside the ZAP handler, the authenticator thread keeps answering (AICO-BUS-002): a
request it cannot handle is refused, and the next client's handshake is still answered.

Fuzzing found one request that raised inside pyzmq and ended the thread; after that, no client was ever
admitted again, and stopping the broker hung. This pins the general rule with a fault the fuzzer did not find:
the allowlist lookup itself raising, for one request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from aico_secure.fuzz._harness import bus_frame
from aico_secure.transport.bus import zap
from verification.transport.running_bus import RunningBus

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[RunningBus]:
    with RunningBus(tmp_path / "bus") as running:
        yield running


def test_an_exception_in_the_allowlist_lookup_refuses_that_client_and_no_other(
        bus: RunningBus, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bus.relays(bus.publishers[bus_frame.WRITER], b"before")
    calls = {"n": 0}
    original = zap._AllowlistProvider.callback

    def fails_once(self: zap._AllowlistProvider, domain: str, key: bytes) -> bool:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("allowlist store unavailable")
        return original(self, domain, key)

    monkeypatch.setattr(zap._AllowlistProvider, "callback", fails_once)
    component = bus_frame.WRITER
    refused = bus.client(component, zmq.PUB, bus.broker.publish_endpoint)
    refused.send_multipart([b"conversation.x", b"lost"])  # its handshake is the one that fails
    late = bus.client(component, zmq.PUB, bus.broker.publish_endpoint)
    assert bus.relays(late, b"admitted-after"), "no client was admitted after the handler raised once"
    assert calls["n"] >= 2, "the failing lookup was never reached"
