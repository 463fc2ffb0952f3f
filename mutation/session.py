"""One mutation session: choose the mutants, run them in a fresh sandbox, score and record the result.

Why one place: the bench command and the CI gate must choose and score mutants the same way, or the gate
would compare a number with a differently made one.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from filelock import FileLock

from mutation.catalog import BASELINE, REPO, Config, load_equivalent
from mutation.mutants import Mutant, enumerate_all, enumerate_module, sample, sample_pool
from mutation.runner import EQUIVALENT, SKIPPED, SURVIVED, Outcome, run_mutants
from mutation.sandbox import Sandbox
from mutation.scoring import Row, breakdown, outcome_record, rows

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locked(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Serialise read-modify-write of ``baseline.json``: two runs finishing together must not lose one."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with FileLock(str(BASELINE) + ".lock"):
            return func(*args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class Session:
    """The outcomes of one run and where it ran."""

    outcomes: list[Outcome]
    seconds: float

    def table(self) -> list[Row]:
        return rows(self.outcomes)


def resolve_groups(config: Config, selectors: Sequence[str]) -> tuple[list[str], set[str] | None]:
    """Turn ``--module`` values (a group name or a module path) into groups plus an optional module filter."""
    if not selectors:
        return list(config.groups), None
    groups: list[str] = []
    modules: set[str] = set()
    for sel in selectors:
        if sel in config.groups:
            groups.append(sel)
            modules.update(config.groups[sel].modules)
            continue
        matches = [m for g in config.groups.values() for m in g.modules if m == sel or m.endswith("/" + sel)]
        if not matches:
            raise SystemExit(f"--module {sel!r}: neither a group ({', '.join(config.groups)}) nor a listed module")
        for m in matches:
            groups.append(config.group_of(m).name)
            modules.add(m)
    return list(dict.fromkeys(groups)), modules


def choose(config: Config, groups: Sequence[str], modules: set[str] | None, per_module: int | None,
           seed: int, repo: Path = REPO, exclude: frozenset[str] = frozenset()) -> list[Mutant]:
    pool = [m for m in enumerate_all(config, groups, repo)
            if (modules is None or m.module in modules) and m.mutant_id not in exclude]
    return sample(pool, per_module, seed)


def seen_ids(path: Path = BASELINE) -> frozenset[str]:
    """Every mutant already recorded or reviewed: a held-out sample leaves them out.

    Tests were written against recorded survivors, so a sample that draws them again measures those tests, not
    the suite's power on defects nobody has looked at.
    """
    recorded = json.loads(path.read_text(encoding="utf-8")).get("mutants", {}) if path.exists() else {}
    return frozenset(recorded) | frozenset(load_equivalent())


def pick_ids(config: Config, ids: Sequence[str], repo: Path = REPO) -> list[Mutant]:
    """The mutants named by id; an id that names nothing in the current source is an error."""
    wanted, found = list(dict.fromkeys(ids)), {}
    for module in {i.rsplit(":", 2)[0] for i in wanted}:
        config.group_of(module)  # refuses a module outside the configured groups
        found.update({m.mutant_id: m for m in enumerate_module(module, config.operators, repo)})
    missing = [i for i in wanted if i not in found]
    if missing:
        raise SystemExit(f"no such mutant in the current source: {missing}")
    return [found[i] for i in wanted]


def ci_mutants(config: Config, repo: Path = REPO) -> list[Mutant]:
    """The gate's fixed sample: ``size`` mutants over the CI groups, chosen with the configured seed.

    Drawn before reviewed equivalents are dropped, so reviewing one removes it without reshuffling the rest.
    """
    spec = config.ci_sample
    equivalent = load_equivalent()
    drawn = sample_pool(enumerate_all(config, spec.groups, repo), spec.size, spec.seed)
    return [m for m in drawn if m.mutant_id not in equivalent]


def gate_mutants(config: Config, recorded: dict[str, str], repo: Path = REPO) -> tuple[list[Mutant], list[Mutant]]:
    """Split the CI sample into mutants to run and recorded survivors to carry over without running.

    A recorded survivor can only turn into a kill, which never lowers the score, so CI does not pay a whole
    area's run for it; every mutant recorded as detected, and any mutant the recording does not know (the
    source changed), is run.
    """
    sample_now = ci_mutants(config, repo)
    carried = [m for m in sample_now if recorded.get(m.mutant_id) == SURVIVED]
    return [m for m in sample_now if m not in carried], carried


def run_session(config: Config, pick: Callable[[Path], list[Mutant]], budget: float | None = None,
                progress: Callable[[Outcome], None] | None = None, workdir: Path | None = None,
                ignore: Sequence[str] = ()) -> Session:
    """Copy the checkout, pick mutants from the copy (so ids match what runs), run them, clean up."""
    start = time.monotonic()
    tmp = _fresh_directory(Path(workdir or tempfile.gettempdir()))
    try:
        sandbox = Sandbox(tmp / "tree", config.target, ignore=ignore)
        mutants = pick(sandbox.root)
        deadline = None if budget is None else start + budget
        outcomes = run_mutants(config, sandbox, mutants, load_equivalent(), deadline, progress)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Session(outcomes, time.monotonic() - start)


def _fresh_directory(parent: Path) -> Path:
    """A new directory named with digits only. Why: the sandbox path appears in the build's error messages,
    and a conformance test may look for a short wrong password (such as "x") in them; a random name that
    happens to contain it would fail the unmutated run for a reason that has nothing to do with the build."""
    for attempt in itertools.count():
        path = parent / f"aico-mutation-{os.getpid()}-{attempt}"
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            continue
        return path
    raise AssertionError("unreachable")


@_locked
def record_baseline(config: Config, session: Session, meta: dict[str, Any], path: Path = BASELINE) -> dict[str, Any]:
    """Merge this run's mutants into ``baseline.json`` and recompute its scores from all recorded mutants."""
    return _merge_records(config, [outcome_record(o) for o in session.outcomes], meta, path)


@_locked
def record_partial(config: Config, partial: Path, meta: dict[str, Any], path: Path = BASELINE) -> dict[str, Any]:
    """Merge the per-mutant records of an interrupted run (``results/*.partial.jsonl``) into ``baseline.json``."""
    lines = partial.read_text(encoding="utf-8").splitlines()
    return _merge_records(config, [json.loads(line) for line in lines if line.strip()], meta, path)


def _merge_records(config: Config, records: list[dict[str, Any]], meta: dict[str, Any],
                   path: Path) -> dict[str, Any]:
    old: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    mutants: dict[str, Any] = dict(old.get("mutants", {}))
    for r in records:
        if r["status"] != SKIPPED:
            mutants[r["id"]] = {"module": r["module"], "line": r["line"], "group": r["group"],
                                "status": r["status"], "killed_by": r["killed_by"]}
    old["runs"] = [*old.get("runs", []), meta]
    return _write_baseline(config, old, mutants, path)


@_locked
def rescore_baseline(config: Config, path: Path = BASELINE, repo: Path = REPO) -> dict[str, Any]:
    """Recompute ``baseline.json`` against the current source, map and equivalent list: a recorded mutant that
    is no longer generated, or whose module moved to another group, is dropped; one reviewed as equivalent
    since the run is counted as such."""
    old: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    equivalent = load_equivalent()
    current = {m.mutant_id for m in enumerate_all(config, config.groups, repo)}
    mutants = {}
    for mutant_id, entry in old.get("mutants", {}).items():
        # A module the map has moved to another group was measured against the wrong areas: measure it again.
        if mutant_id in current and entry["group"] == config.group_of(entry["module"]).name:
            mutants[mutant_id] = {**entry, "status": EQUIVALENT} if mutant_id in equivalent else entry
    sample = old.get("ci_sample")
    if sample:
        kept = {k: v for k, v in sample["mutants"].items() if k not in equivalent and k in current}
        run = [v for v in kept.values() if v in ("killed", "timeout", "survived")]
        detected = sum(v in ("killed", "timeout") for v in run)
        old["ci_sample"] = {**sample, "mutants": kept, "detected": detected, "run": len(run),
                            "score": round(detected / len(run), 4) if run else None}
    return _write_baseline(config, old, mutants, path)


def _write_baseline(config: Config, old: dict[str, Any], mutants: dict[str, Any], path: Path) -> dict[str, Any]:
    table = [Row(v["module"], v["group"], v["status"]) for v in mutants.values()]
    body = {
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runs": old.get("runs", []),
        "summary": breakdown(config, table),
        "survivors": sorted(k for k, v in mutants.items() if v["status"] == SURVIVED),
        "ci_sample": old.get("ci_sample"),
        "mutants": dict(sorted(mutants.items())),
    }
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return body


@_locked
def record_ci_sample(config: Config, session: Session, path: Path = BASELINE) -> dict[str, Any]:
    """Store the gate's sample and its score in ``baseline.json``."""
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    scored = [o for o in session.outcomes if o.scored]
    detected = sum(o.detected for o in scored)
    body["ci_sample"] = {
        "seed": config.ci_sample.seed, "size": config.ci_sample.size, "groups": list(config.ci_sample.groups),
        "mutants": {o.mutant.mutant_id: o.status for o in session.outcomes if o.status != EQUIVALENT},
        "detected": detected, "run": len(scored), "score": round(detected / len(scored), 4) if scored else None,
    }
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return body
