"""AICO-GW-002 after every step of random login / use / refresh / replay / logout / clock sequences
(``token_lifecycle.TokenMachine``): lifetimes exact to the instant for each token type, and tokens bound to
their type and single use."""

from __future__ import annotations

import secrets

import pytest
from hypothesis.stateful import run_state_machine_as_test

from aico_secure.conform.fakes import ManualClock
from aico_secure.conform.stateful import machine_settings
from aico_secure.target.gateway import RunningGateway

from .gwclient import SuiteClient
from .token_lifecycle import TokenEnv, TokenMachine

# How many sequences comes from the conformance profile (aico_secure.conform.stateful); this is their length.
STEPS = 8


def _run(profile: str, prop: str, gateway: RunningGateway, client: SuiteClient, clock: ManualClock,
         password: str) -> None:
    env = TokenEnv(gateway, client, clock, password)

    def machine() -> TokenMachine:
        user = "t" + secrets.token_hex(6)
        gateway.register(user, password)
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
