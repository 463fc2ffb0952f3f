"""Audit properties checked after every step of random record / key-operation / rotation / reopen sequences
(``lifecycle.AuditMachine``): one test per requirement, so a report lists every property a build breaks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis.stateful import run_state_machine_as_test

from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.conform.stateful import machine_settings
from aico_secure.target import KeySession
from aico_secure.target.audit import AuditCapability

from .lifecycle import PURPOSES, SOURCES, AuditEnv, AuditMachine

# How many sequences comes from the conformance profile (aico_secure.conform.stateful); this is their length.
STEPS = 6


def _walk(env: AuditEnv, prop: str) -> None:
    """Every kind of step once, in a fixed order, the property checked after each: the random sequences look for
    orders nobody thought of, the walk makes sure no kind of step is left to chance when the profile runs only a
    few sequences (a failed password operation, for one, is what carries a password toward the log)."""
    m = AuditMachine(env, prop)
    steps: list[Callable[[], None]] = [functools.partial(m.component_reports, source, 1.0) for source in SOURCES]
    steps += [lambda: m.seal_and_open(PURPOSES[0]), lambda: m.derive(PURPOSES[0]),
              lambda: m.rotate(PURPOSES[0], False), lambda: m.rotate(PURPOSES[-1], True)]
    if prop == "secrets":
        steps += [lambda: m.wrong_password_refused(True), lambda: m.wrong_password_refused(False)]
    steps += [m.reopen, lambda: m.component_reports(SOURCES[0], 61.0)]
    try:
        m.property_holds()
        for step in steps:
            step()
            m.property_holds()
    finally:
        m.teardown()


def _run(profile: str, prop: str, audit: AuditCapability, key_session: KeySession, password: str, tmp_path: Path,
         clock: Clock) -> None:
    env = AuditEnv(audit, key_session, password, tmp_path / "lifecycle", clock)
    _walk(env, prop)
    run_state_machine_as_test(lambda: AuditMachine(env, prop), settings=machine_settings(profile, STEPS))  # type: ignore[arg-type]  # any factory works


@pytest.mark.requirement("AICO-AUD-001")
def test_every_event_is_read_back_with_its_source(audit: AuditCapability, key_session: KeySession, password: str,
                                                  tmp_path: Path, clock: Clock,
                                                  aico_profile: str) -> None:
    _run(aico_profile, "recorded", audit, key_session, password, tmp_path, clock)


@pytest.mark.requirement("AICO-AUD-003")
def test_chain_verifies_and_checkpoint_covers_the_last_entry(audit: AuditCapability, key_session: KeySession,
                                                             password: str, tmp_path: Path, clock: Clock,
                                                             aico_profile: str) -> None:
    _run(aico_profile, "chain", audit, key_session, password, tmp_path, clock)


@pytest.mark.requirement("AICO-AUD-002")
def test_no_secret_in_the_log_after_any_step(audit: AuditCapability, key_session: KeySession, password: str,
                                             tmp_path: Path, clock: Clock,
                                             aico_profile: str) -> None:
    _run(aico_profile, "secrets", audit, key_session, password, tmp_path, clock)
