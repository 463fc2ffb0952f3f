"""Consent properties checked after every step of random grant / revoke / clock / reopen sequences.

Each test states one requirement's property and lets ``lifecycle.ConsentMachine`` look for a sequence that
breaks it. The machine runs in a local time zone with daylight saving, starting at 23:00 local the evening
before the autumn change, so its steps cross midnight and the repeated hour.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis.stateful import run_state_machine_as_test

from aico_secure.conform.stateful import machine_settings
from aico_secure.target import KeySession
from aico_secure.target.consent import ConsentCapability, ConsentService

from .lifecycle import ConsentEnv, ConsentMachine
from .timezone import MIDNIGHT_BEFORE_FALL_BACK, local_zone

# How many sequences comes from the conformance profile (aico_secure.conform.stateful); this is their length.
STEPS = 12


@pytest.fixture
def run_lifecycle(consent: ConsentCapability, key_session: KeySession, tmp_path: Path, service: ConsentService,
                  user_category: str, second_user_category: str, system_category: str,
                  aico_profile: str) -> Callable[[str], None]:
    """Runs ``ConsentMachine`` for one property, in the daylight-saving zone, from 23:00 before the fall-back."""
    env = ConsentEnv(consent, key_session, tmp_path / "lifecycle", MIDNIGHT_BEFORE_FALL_BACK - 3600.0,
                     (user_category, second_user_category), system_category)

    def run(prop: str) -> None:
        with local_zone():
            run_state_machine_as_test(lambda: ConsentMachine(env, prop),  # type: ignore[arg-type]  # any factory works
                                      settings=machine_settings(aico_profile, STEPS))

    return run


@pytest.mark.requirement("AICO-CON-001")
def test_never_granted_is_denied_after_every_step(run_lifecycle: Callable[[str], None]) -> None:
    run_lifecycle("default")


@pytest.mark.requirement("AICO-CON-002")
def test_grant_works_exactly_until_its_expiry(run_lifecycle: Callable[[str], None]) -> None:
    run_lifecycle("expiry")


@pytest.mark.requirement("AICO-CON-003")
def test_revoked_stays_refused_after_every_step(run_lifecycle: Callable[[str], None]) -> None:
    run_lifecycle("revocation")


@pytest.mark.requirement("AICO-CON-004")
def test_plugins_never_grant_nor_hold_system_data(run_lifecycle: Callable[[str], None]) -> None:
    run_lifecycle("plugin")


@pytest.mark.requirement("AICO-CON-005")
def test_every_decision_is_audited_after_every_step(run_lifecycle: Callable[[str], None]) -> None:
    run_lifecycle("audited")
