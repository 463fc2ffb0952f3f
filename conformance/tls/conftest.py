"""Fixtures for the TLS / device-sync conformance tests: the suite's PKI and build devices it certifies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aico_secure.conform.fixtures import capability_fixture
from aico_secure.probes.tls import DeviceSet, SuitePki
from aico_secure.target import KeySession
from aico_secure.target.tls import TlsCapability

tls = capability_fixture("tls", TlsCapability)


@pytest.fixture
def pki(tmp_path: Path) -> SuitePki:
    return SuitePki(tmp_path / "pki")


@pytest.fixture
def devices(tls: TlsCapability, key_session: KeySession, pki: SuitePki, tmp_path: Path) -> Iterator[DeviceSet]:
    made = DeviceSet(tls, key_session, pki, tmp_path / "devices")
    try:
        yield made
    finally:
        made.close()
