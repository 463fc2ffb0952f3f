"""The sampled mutation gate: a fixed-seed sample of mutants of the most critical modules must stay detected.

Why in CI: the full mutation run (``bench/run.py mutation``) takes hours, so CI runs a fixed sample of
mutants of the key hierarchy, the envelope, consent and the audit chain against the conformance areas mapped
to them and fails if fewer are detected than when the sample was recorded in ``mutation/baseline.json``. A
test that stops checking what those modules do, or an area dropped from ``mutation/config.yaml``, shows up
here. Recorded survivors are carried over without a run: they can only improve.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mutation.catalog import BASELINE, load_config, load_equivalent
from mutation.mutants import Mutant, enumerate_module
from mutation.runner import SKIPPED
from mutation.session import gate_mutants, run_session


def test_config_names_existing_modules_and_areas() -> None:
    config = load_config()  # raises on a missing module or area
    assert config.ci_sample.size >= 8
    assert all(group.areas for group in config.groups.values()), "a group with no areas can only survive"


def test_every_equivalent_mutant_still_exists_with_a_reason() -> None:
    """A reviewed exclusion whose mutant drifted (source changed) must be reviewed again, not silently kept."""
    config = load_config()
    stale = []
    for mutant_id, entry in load_equivalent().items():
        module = mutant_id.rsplit(":", 2)[0]
        found = [m for m in enumerate_module(module, config.operators) if m.mutant_id == mutant_id]
        if not found or (entry.line and found[0].original_line() != entry.line):
            stale.append(mutant_id)
    assert not stale, f"equivalent.yaml entries no longer match the source: {stale}"


def test_sampled_mutation_score_does_not_drop(tmp_path: Path) -> None:
    recorded = json.loads(BASELINE.read_text(encoding="utf-8")).get("ci_sample")
    if not recorded:
        pytest.fail("mutation/baseline.json has no ci_sample: run bench/run.py mutation --ci-sample --record")
    config = load_config()
    carried: list[Mutant] = []

    def pick(root: Path) -> list[Mutant]:
        to_run, survivors = gate_mutants(config, recorded["mutants"], root)
        carried.extend(survivors)
        return to_run

    session = run_session(config, pick, workdir=tmp_path)
    skipped = [f"{o.mutant.mutant_id}: {o.note[:300]}" for o in session.outcomes if o.status == SKIPPED]
    assert not skipped, f"mutants not run (a red unmutated baseline scores nothing): {skipped}"
    scored = [o for o in session.outcomes if o.scored]
    assert scored, "the CI sample ran no mutant"
    score = sum(o.detected for o in scored) / (len(scored) + len(carried))
    was_killed = {k for k, v in recorded["mutants"].items() if v in ("killed", "timeout")}
    lost = [o for o in scored if not o.detected and o.mutant.mutant_id in was_killed]
    detail = "\n\n".join(f"{o.mutant.module}:{o.mutant.line} {o.mutant.operator}\n{o.diff}" for o in lost)
    assert score >= recorded["score"] and not lost, (
        f"sampled mutation score {score:.0%} (recorded {recorded['score']:.0%}); recorded kills now surviving:\n"
        f"{detail}")
