"""AICO-GW-002 after every step of random login / use / refresh / replay / logout / clock sequences
(``token_lifecycle.TokenMachine``): lifetimes exact to the instant for each token type, tokens bound to their
type and single use, every token's standing kept across restarts, and tokens bound to the gateway that issued
them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis.stateful import run_state_machine_as_test

from aico_secure.conform.fakes import ManualClock
from aico_secure.conform.stateful import machine_settings
from aico_secure.target.gateway import RunningGateway

from .conftest import StartGateway
from .gwclient import SuiteClient
from .token_lifecycle import TokenEnv, TokenMachine

# How many sequences comes from the conformance profile (aico_secure.conform.stateful); this is their length.
STEPS = 8


def _run(profile: str, prop: str, gateway: RunningGateway, client: SuiteClient, clock: ManualClock,
         password: str, env: TokenEnv | None = None, *, foreign: RunningGateway | None = None) -> None:
    env = env or TokenEnv(gateway, client, clock, password)

    def machine() -> TokenMachine:
        user = "t" + secrets.token_hex(6)
        env.gateway.register(user, password)
        if foreign is not None:
            foreign.register(user, password)
        return TokenMachine(env, prop, user)

    run_state_machine_as_test(machine, settings=machine_settings(profile, STEPS))  # type: ignore[arg-type]  # any factory works


@pytest.mark.requirement("AICO-GW-002")
@pytest.mark.aico_profile("full")  # dozens of HTTPS logins; the quick profile has the exact-instant test
def test_token_lifetimes_hold_after_every_step(gateway: RunningGateway, client: SuiteClient, clock: ManualClock,
                                               password: str,
                                               aico_profile: str) -> None:
    _run(aico_profile, "lifetimes", gateway, client, clock, password)


@pytest.mark.requirement("AICO-GW-002")
@pytest.mark.aico_profile("full")
def test_tokens_stay_bound_to_type_and_single_use(gateway: RunningGateway, client: SuiteClient,
                                                  clock: ManualClock, password: str,
                                                  aico_profile: str) -> None:
    _run(aico_profile, "binding", gateway, client, clock, password)


@pytest.fixture
def restartable(start_gateway: StartGateway, tmp_path: Path, clock: ManualClock,
                password: str) -> Iterator[TokenEnv]:
    """A token environment whose ``restart`` stops the gateway and starts it again on the same directory."""
    directory = tmp_path / "restarted"
    gateway = start_gateway(directory)
    clients = [SuiteClient(gateway)]
    env = TokenEnv(gateway, clients[0], clock, password)

    def restart() -> tuple[RunningGateway, SuiteClient]:
        env.client.close()
        env.gateway.stop()
        restarted = start_gateway(directory)
        clients.append(SuiteClient(restarted))
        return restarted, clients[-1]

    env.restart = restart
    yield env
    for opened in clients:
        opened.close()


@pytest.mark.requirement("AICO-GW-002")
def test_tokens_keep_their_standing_across_restarts(restartable: TokenEnv, clock: ManualClock, password: str,
                                                    aico_profile: str) -> None:
    _run(aico_profile, "restart", restartable.gateway, restartable.client, clock, password, restartable)
    assert restartable.restarts > 0, "no restart was made: the test checked nothing"


@pytest.mark.requirement("AICO-GW-002")
def test_tokens_are_refused_by_another_gateway(start_gateway: StartGateway, tmp_path: Path, gateway: RunningGateway,
                                               client: SuiteClient, clock: ManualClock, password: str,
                                               aico_profile: str) -> None:
    """Two gateways of one key hierarchy (two devices of one user): each refuses the other's tokens."""
    other = start_gateway(tmp_path / "other-gateway")
    with SuiteClient(other) as foreign:
        env = TokenEnv(gateway, client, clock, password, foreign=foreign)
        _run(aico_profile, "audience", gateway, client, clock, password, env, foreign=other)
    assert env.crossings > 0, "no token was shown to a gateway that did not issue it: the test checked nothing"
