"""Fixtures for the message-bus conformance tests: a broker of the build under test and the suite's probes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aico_secure.conform.fixtures import capability_fixture
from aico_secure.probes.bus import BusProbe, ProbePair, RecordingSink
from aico_secure.target.bus import BusBroker, BusCapability

bus = capability_fixture("bus", BusCapability)


@pytest.fixture
def audit_sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def broker(bus: BusCapability, tmp_path: Path, audit_sink: RecordingSink) -> Iterator[BusBroker]:
    started = bus.start(tmp_path / "bus", audit=audit_sink)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def probe(broker: BusBroker) -> Iterator[BusProbe]:
    made = BusProbe(broker)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def pair(broker: BusBroker, probe: BusProbe) -> ProbePair:
    """An allowed publisher and subscriber on ``probe.``: the positive control of every negative probe."""
    return ProbePair.enroll(broker, probe)
