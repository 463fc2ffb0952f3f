"""Contract-level fuzzing finds the planted fault of each of its negative controls, and nothing on the reference
build in the same budget per surface. The controls live in conformance/controls/ like every other; here they
prove the fuzzer's power, the conformance suite's own power is measured on them separately."""

from __future__ import annotations

import pytest

from aico_secure.fuzz.contract.interface import SERVER_ERROR, STOPPED_SERVING, WRONG_DATA
from aico_secure.fuzz.contract.runner import run

REFERENCE = "aico_secure.reference:build"
# surface -> (control that breaks its property, seconds of fuzzing, the kind of finding the fault must give)
CASES = {
    "stored": ("conformance.controls.stores_rocksdb_serves_last_good_value:build", 40.0, WRONG_DATA),
    "bus": ("conformance.controls.bus_dies_on_malformed_topic:build", 25.0, STOPPED_SERVING),
    "gateway": ("conformance.controls.gateway_deep_body_500:build", 30.0, SERVER_ERROR),
}


@pytest.mark.parametrize("surface", sorted(CASES))
def test_finds_the_planted_fault(surface: str) -> None:
    control, seconds, kind = CASES[surface]
    result = run(control, seconds=seconds, seed=1, surfaces=[surface], stop_on_finding=True)
    assert not result.not_run, result.not_run
    assert any(f.kind == kind for f in result.findings), \
        f"{surface}: {result.iterations[surface]} inputs found no {kind}: {[str(f) for f in result.findings]}"


@pytest.mark.parametrize("surface", sorted(CASES))
def test_reference_has_no_findings(surface: str) -> None:
    _control, seconds, _kind = CASES[surface]
    result = run(REFERENCE, seconds=seconds, seed=1, surfaces=[surface])
    assert result.complete and result.iterations[surface] > 0, result.not_run
    assert not result.findings, [str(f) for f in result.findings]


def test_a_missing_capability_is_incomplete_not_a_pass() -> None:
    from aico_secure.reference import build
    from aico_secure.target import Target

    bare = Target(name="keys only", keys=build().keys)
    result = run(bare, seconds=2, seed=1, surfaces=["bus", "gateway"])
    assert not result.complete and not result.ok
    assert set(result.not_run) == {"bus", "gateway"}


def test_unknown_surface_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown contract surface"):
        run(REFERENCE, seconds=1, seed=1, surfaces=["nope"])


def test_draws_come_from_a_libfuzzer_input_as_well() -> None:
    """Under Atheris the same surface code takes its draws from libFuzzer's bytes, deterministically."""
    from aico_secure.fuzz.contract.interface import provider_source

    draws = [(s.int_in(0, 9), s.raw(4), s.pick("abc")) for s in (provider_source(b"\x07" * 64) for _ in range(2))]
    assert draws[0] == draws[1]
    assert 0 <= draws[0][0] <= 9 and len(draws[0][1]) == 4
