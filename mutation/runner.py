"""Run mutants one at a time in a sandbox, each against only the conformance areas of its module's group.

Why per group: the areas of a group are the only ones that exercise its modules, and running them with
``-x`` keeps a killed mutant's run to seconds. Before any mutant of a group runs, the unmutated copy must pass
those areas: a red baseline would make every mutant look killed. A mutant that makes the run hang is stopped
at the group's timeout and counted as killed by timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mutation.catalog import Config, Equivalence
from mutation.mutants import Mutant
from mutation.sandbox import RunResult, Sandbox, SandboxError

KILLED, TIMEOUT, SURVIVED, EQUIVALENT, SKIPPED = "killed", "timeout", "survived", "equivalent", "skipped"


@dataclass(frozen=True)
class Outcome:
    """What happened to one mutant; ``killed_by`` is the first failing test (or the exit code's meaning)."""

    mutant: Mutant
    group: str
    status: str
    seconds: float
    killed_by: str | None
    diff: str
    note: str = ""

    @property
    def scored(self) -> bool:
        return self.status in (KILLED, TIMEOUT, SURVIVED)

    @property
    def detected(self) -> bool:
        return self.status in (KILLED, TIMEOUT)


def classify(result: RunResult) -> tuple[str, str | None]:
    """Map a pytest run onto an outcome. Exit 5 (nothing collected) is never a kill: it ran nothing."""
    if result.timed_out:
        return TIMEOUT, "timeout"
    if result.exit_code == 0:
        return SURVIVED, None
    if result.exit_code == 5:
        raise SandboxError("pytest collected no tests for a mutant: the area map points at nothing")
    return KILLED, result.first_failure or f"pytest exit {result.exit_code}"


def run_mutants(
    config: Config,
    sandbox: Sandbox,
    mutants: Sequence[Mutant],
    equivalent: dict[str, Equivalence],
    deadline: float | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run every mutant (grouped), skipping reviewed equivalents and anything past ``deadline`` (monotonic)."""
    outcomes: list[Outcome] = []
    timeouts: dict[str, float] = {}
    red: dict[str, str] = {}
    for mutant in mutants:
        group = config.group_of(mutant.module)
        name = group.name
        try:
            diff = mutant.diff(sandbox.root)
        except Exception as exc:  # noqa: BLE001 - cosmic-ray cannot apply some operators to some nodes
            note = f"cosmic-ray cannot apply this mutation ({type(exc).__name__})"
            outcomes.append(_report(progress, Outcome(mutant, name, SKIPPED, 0.0, None, "", note)))
            continue
        known = equivalent.get(mutant.mutant_id)
        if known is not None and (not known.line or known.line == mutant.original_line(sandbox.root)):
            outcomes.append(_report(progress, Outcome(mutant, name, EQUIVALENT, 0.0, None, diff, known.reason)))
            continue
        if deadline is not None and time.monotonic() >= deadline:
            outcomes.append(_report(progress, Outcome(mutant, name, SKIPPED, 0.0, None, diff, "time budget")))
            continue
        if name not in timeouts and name not in red:
            try:
                timeouts[name] = _green_baseline(config, sandbox, group.areas)
            except SandboxError as exc:
                red[name] = str(exc)
        if name in red:
            outcomes.append(_report(progress, Outcome(mutant, name, SKIPPED, 0.0, None, diff, red[name])))
            continue
        original = sandbox.read(mutant.module)
        try:
            sandbox.write(mutant.module, mutant.mutated_source(sandbox.root))
            result = sandbox.run_areas(group.areas, timeouts[name])
        finally:
            sandbox.restore(mutant.module, original)
        status, killed_by = classify(result)
        outcomes.append(_report(progress, Outcome(mutant, name, status, result.seconds, killed_by, diff)))
    return outcomes


def _green_baseline(config: Config, sandbox: Sandbox, areas: Sequence[str]) -> float:
    """Run the unmutated areas; refuse the group unless they pass. Returns the per-mutant timeout."""
    result = sandbox.run_areas(areas, timeout=max(600.0, config.min_timeout))
    if result.exit_code != 0:
        raise SandboxError(f"unmutated reference fails {list(areas)} (exit {result.exit_code}):\n{result.tail}")
    return max(config.min_timeout, config.timeout_factor * result.seconds)


def _report(progress: Callable[[Outcome], None] | None, outcome: Outcome) -> Outcome:
    if progress is not None:
        progress(outcome)
    return outcome
