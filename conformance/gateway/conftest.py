"""Fixtures of the gateway area: a started gateway on a manual clock with an event-collecting audit sink, and
the suite's own HTTPS+SRP client for it."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aico_secure.conform.fakes import CollectingSink, ManualClock
from aico_secure.conform.fixtures import capability_fixture
from aico_secure.conform.passphrases import passphrase
from aico_secure.target import KeysCapability, KeySession, Target
from aico_secure.target.gateway import GatewayCapability, RunningGateway

from .gwclient import SuiteClient

gateway_cap = capability_fixture("gateway", GatewayCapability, name="gateway_cap")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def audit_events() -> CollectingSink:
    return CollectingSink()


StartGateway = Callable[..., RunningGateway]


@pytest.fixture
def start_gateway(gateway_cap: GatewayCapability, key_session: KeySession, tmp_path: Path, clock: ManualClock,
                  audit_events: CollectingSink) -> Iterator[StartGateway]:
    """``start_gateway(directory=None)``: start (or restart) a gateway; every one is stopped at teardown."""
    started: list[RunningGateway] = []

    def start(directory: Path | None = None) -> RunningGateway:
        gateway = gateway_cap.start(key_session, directory or tmp_path / "gateway", audit=audit_events, clock=clock)
        assert isinstance(gateway, RunningGateway), "start() did not return a RunningGateway"
        assert gateway.base_url.startswith("https://127.0.0.1:"), \
            f"gateway must serve https on 127.0.0.1: {gateway.base_url}"
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def gateway(start_gateway: StartGateway) -> RunningGateway:
    return start_gateway()


@pytest.fixture
def client(gateway: RunningGateway) -> Iterator[SuiteClient]:
    with SuiteClient(gateway) as suite_client:
        yield suite_client


@pytest.fixture(scope="module")
def shared_gateway(aico_target: Target, tmp_path_factory: pytest.TempPathFactory,
                   fast_kdf: bool) -> Iterator[RunningGateway]:
    """One gateway for a whole module of tests that only read its behaviour (validation, headers): starting
    and stopping a server per test would dominate the run time."""
    keys = aico_target.require("keys")
    capability = aico_target.require("gateway")
    assert isinstance(keys, KeysCapability) and isinstance(capability, GatewayCapability)
    root = tmp_path_factory.mktemp("shared-gateway")
    session = keys.create(root / "keys", passphrase(), fast_kdf=fast_kdf)
    gateway = capability.start(session, root / "gateway", audit=CollectingSink(), clock=ManualClock())
    try:
        yield gateway
    finally:
        gateway.stop()
        session.close()


@pytest.fixture
def new_user() -> Callable[[], str]:
    def make() -> str:
        return "u" + secrets.token_hex(6)

    return make
