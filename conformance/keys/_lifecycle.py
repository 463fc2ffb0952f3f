"""What the stateful lifecycle tests of keys and stores share: restarts, passphrases, and how long to run.

A *restart* here is a new instance of the build: the target factory is loaded again, so nothing a capability
object kept in memory (a cache of passwords, keys or verified records) survives into the next step. Only what
the build wrote to disk carries over, exactly as after a process restart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import pytest
from hypothesis import settings

from aico_secure.conform.passphrases import passphrase
from aico_secure.conform.plugin import target_spec
from aico_secure.conform.stateful import machine_settings as conform_machine_settings
from aico_secure.target import Target, load_target

# Steps per generated sequence. How many sequences run comes from the conformance profile
# (``aico_secure.conform.stateful``); only the length of each sequence is chosen here.
STEPS = {"quick": 8, "full": 25, "release": 25}
# Store steps open engines, rebuild files and restart the build: a shorter sequence keeps quick runs quick.
STORE_STEPS = {"quick": 5, "full": 20, "release": 20}
LOAD_TIMEOUT = 60.0


def machine_settings(profile: str, steps: dict[str, int] | None = None) -> settings:
    """Settings for ``run_state_machine_as_test``: sequence count from the conformance profile, length from here."""
    steps = steps or STEPS
    return conform_machine_settings(profile, steps.get(profile, steps["quick"]))


def strong_passphrase() -> str:
    """A random passphrase shaped like a user's, so no build refuses it as too weak or odd (the suite's one
    generator: ``aico_secure.conform.passphrases``)."""
    return passphrase()


def restarter(config: pytest.Config) -> Callable[[], Target]:
    """A callable that loads a fresh instance of the build under test (see the module docstring)."""
    spec = target_spec(config)
    if not spec:
        raise RuntimeError("no --aico-target: the lifecycle tests cannot restart the build")

    def restart() -> Target:
        return load_target(spec, timeout=LOAD_TIMEOUT)

    return restart


class Walkable(Protocol):
    """A lifecycle machine instance driven by hand: its initial rule, its property check, its teardown."""

    def create(self) -> None: ...
    def property_holds(self) -> None: ...
    def teardown(self) -> None: ...


def offered(operation: str, call: Callable[[], None], about: frozenset[str]) -> bool:
    """Run an optional operation (a rotation, a compaction, a password change). One the build lacks
    (``NotImplementedError``) is an event that cannot happen: ``False``, and the property is checked at every
    other event, unless the property is ``about`` that operation: then it is "not implemented"."""
    try:
        call()
    except NotImplementedError:
        if operation in about:
            raise
        return False
    return True


def walk(machine: Walkable, steps: Sequence[Callable[[], None]]) -> None:
    """Run ``steps`` in order on a fresh machine, checking its property after creation and after every step.

    The random sequences look for orders nobody thought of; a fixed walk through every kind of event makes
    sure none is left to chance when the profile runs only a few sequences."""
    try:
        machine.create()
        machine.property_holds()
        for step in steps:
            step()
            machine.property_holds()
    finally:
        machine.teardown()
