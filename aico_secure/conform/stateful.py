"""How long the conformance suite's stateful tests run: the conformance profile decides, not each test.

Every stateful test in the suite (hypothesis ``RuleBasedStateMachine`` over the contract) takes its settings
from :func:`machine_settings`. The number of generated sequences comes from the conformance profile
(``quick`` is the gate a developer runs before every push, ``full`` and ``release`` go deeper); each test
chooses only how long one sequence is. The machines check their properties after *every* step, so a defect
is found by the first sequence that passes through the event that breaks it, and a handful of sequences is
enough for the quick gate.

``AICO_HYPOTHESIS_PROFILE=nightly`` raises the count for long campaigns: the larger of the two wins. The count
comes from the one registry of profiles (``hypothesis_profiles``), so it holds in an installed wheel too, where
this checkout's ``conftest.py`` is absent.

The quick gate reports a failing sequence as found, without shrinking it: every step of these machines is real
work (a restart, a TLS login, a rotation), so shrinking a failure takes minutes where finding it took seconds.
``full`` and ``release`` shrink, so the report a release is judged on shows the shortest sequence.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

from aico_secure.conform import hypothesis_profiles

EXAMPLES = {"quick": 4, "full": 25, "release": 50}
_HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture]


def machine_settings(profile: str, steps: int) -> settings:
    """Settings for ``run_state_machine_as_test``: the profile's sequence count, ``steps`` per sequence."""
    examples = EXAMPLES.get(profile, EXAMPLES["quick"])
    if hypothesis_profiles.requested() == "nightly":
        examples = max(examples, hypothesis_profiles.EXAMPLES["nightly"])
    phases = [phase for phase in Phase if phase is not Phase.shrink] if profile == "quick" else list(Phase)
    return settings(max_examples=examples, stateful_step_count=steps, deadline=None, suppress_health_check=_HEALTH,
                    database=None, phases=phases)
