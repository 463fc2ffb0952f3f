#!/usr/bin/env python3
"""Mutation testing of the reference build through the conformance suite (docs/mutation.md).

``python bench/run.py mutation [--module M ...] [--sample N] [--seed S] [--budget SECONDS]`` mutates the
security-relevant modules listed in ``mutation/config.yaml`` one mutant at a time in a private copy of the
checkout, runs the conformance areas mapped to each module against it, and writes the score per module, per
group and per requirement area plus every surviving mutant (file:line, operator, diff) to
``mutation/results/``. It is long (thousands of mutants), so it is never part of CI's pass/fail; CI runs the
fixed sample in ``verification/test_mutation_gate.py`` instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mutation.catalog import RESULTS, load_config
from mutation.mutants import Mutant, enumerate_all
from mutation.runner import Outcome
from mutation.scoring import breakdown, format_summary, outcome_record, write_results
from mutation.session import (
    choose,
    ci_mutants,
    pick_ids,
    record_baseline,
    record_ci_sample,
    record_partial,
    rescore_baseline,
    resolve_groups,
    run_session,
    seen_ids,
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench/run.py mutation", description=__doc__.split("\n\n")[0])
    p.add_argument("--module", action="append", default=[], metavar="M",
                   help="a group (keys, stores, ...) or a module path; repeatable; default all groups")
    p.add_argument("--sample", type=int, default=None, metavar="N", help="N mutants per module (default all)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="sampling seed (default 0)")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="start no mutant after this many seconds; the rest are reported skipped")
    p.add_argument("--id", action="append", default=[], metavar="MUTANT_ID",
                   help="run exactly this mutant (module:Operator:occurrence); repeatable")
    p.add_argument("--ignore", action="append", default=[], metavar="TEST_PATH",
                   help="leave this test file out of every run (e.g. one that is red on the unmutated build); "
                        "recorded in the results")
    p.add_argument("--unseen", action="store_true",
                   help="sample only mutants not yet recorded in baseline.json or reviewed (a held-out measurement)")
    p.add_argument("--list", action="store_true", help="count the mutants per module and exit")
    p.add_argument("--ci-sample", action="store_true", help="run the CI gate's fixed sample instead")
    p.add_argument("--record-partial", metavar="JSONL", type=Path, default=None,
                   help="merge an interrupted run's results/*.partial.jsonl into mutation/baseline.json, run nothing")
    p.add_argument("--rescore", action="store_true",
                   help="recompute mutation/baseline.json against the current source and equivalent list, run nothing")
    p.add_argument("--record", action="store_true",
                   help="merge this run into mutation/baseline.json (with --ci-sample: record the gate's sample)")
    return p


class _Progress:
    """Prints one line per mutant and appends its full record to ``results/<stamp>.partial.jsonl`` at once, so
    an interrupted run keeps everything it measured."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path

    def __call__(self, outcome: Outcome) -> None:
        where = f"{outcome.mutant.module}:{outcome.mutant.line}"
        extra = (outcome.killed_by or outcome.note or "").splitlines()[:1]
        print(f"  {outcome.status:<10} {outcome.seconds:6.1f}s {outcome.mutant.mutant_id}  ({where}) "
              f"{extra[0] if extra else ''}", flush=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(outcome_record(outcome)) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.sample is not None and args.sample < 1:
        print("--sample must be >= 1", file=sys.stderr)
        return 2
    config = load_config()
    groups, modules = resolve_groups(config, args.module)
    if args.record_partial is not None:
        body = record_partial(config, args.record_partial, {"partial": args.record_partial.name, "seed": args.seed,
                                                            "sample_per_module": args.sample})
        print(format_summary(body["summary"]))
        return 0
    if args.rescore:
        body = rescore_baseline(config)
        print(format_summary(body["summary"]))
        return 0
    if args.list:
        pool = [m for m in enumerate_all(config, groups) if modules is None or m.module in modules]
        for module in sorted({m.module for m in pool}):
            print(f"{sum(m.module == module for m in pool):5d} {module}")
        print(f"{len(pool):5d} total")
        return 0
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    progress = _Progress(RESULTS / f"mutation-{stamp}.partial.jsonl")
    def pick(root: Path) -> list[Mutant]:
        if args.id:
            return pick_ids(config, args.id, root)
        if args.ci_sample:
            return ci_mutants(config, root)
        return choose(config, groups, modules, args.sample, args.seed, root,
                      exclude=seen_ids() if args.unseen else frozenset())

    session = run_session(config, pick, args.budget, progress, ignore=args.ignore)
    if not session.outcomes:  # e.g. --unseen after every mutant of the selection was measured: no score at all
        print("no mutant was selected: nothing was measured", file=sys.stderr)
        return 2
    meta = {"stamp": stamp, "groups": groups, "modules": sorted(modules) if modules else None,
            "sample_per_module": args.sample, "seed": args.seed, "ci_sample": args.ci_sample,
            "unseen": args.unseen, "seconds": round(session.seconds, 1), "ignored_tests": args.ignore}
    summary = breakdown(config, session.table())
    path = write_results(RESULTS, stamp, meta, summary, session.outcomes)
    print(format_summary(summary))
    print(f"results: {path} (survivors: {path.with_name(path.stem + '-survivors.md')})")
    if args.record:
        (record_ci_sample if args.ci_sample else lambda c, s: record_baseline(c, s, meta))(config, session)
        print("recorded in mutation/baseline.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
