"""``aico-secure fuzz``: parse the options and hand off to ``campaign`` (libFuzzer campaigns, reproduce,
minimise, seed corpora) or ``contract.runner`` (contract-level fuzzing of any build).

Exit codes: 0 everything asked ran and found nothing; 1 a finding (a crash, hang, failing input, a contract
property broken); 2 a usage error, a target that cannot load, or a run that cannot be shown to have run (a
campaign whose figures could not be read, a contract surface that ran nothing) with no finding.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aico_secure.fuzz import campaign, registry
from aico_secure.fuzz.campaign import DEFAULT_MAX_TIME, MAX_BOUND, Campaign, CampaignResult, FuzzError


def _whole(option: str, low: int = 1, high: int = MAX_BOUND) -> Callable[[str], int]:
    """An argparse type for a bound: a whole number libFuzzer reads without wrapping (never "forever")."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{option} must be at least {low}, got {value}")
        if value > high:
            raise argparse.ArgumentTypeError(f"{option} must be at most {high}, got {value}")
        return value

    return parse


def _seconds(text: str) -> float:
    from aico_secure.conform import limits

    try:
        return limits.parse_timeout("--load-timeout", text)
    except limits.LimitError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="harness name (see --list); several only with --seed-corpus")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="list the harnesses and the surface each fuzzes")
    mode.add_argument("--all", action="store_true", help="a campaign of every harness, then a summary table")
    mode.add_argument("--reproduce", nargs="+", metavar="FILE",
                      help="replay these inputs through the harness in process; exit 1 on any failure")
    mode.add_argument("--minimize", metavar="FILE",
                      help="minimise a crashing input (libFuzzer -minimize_crash) into a regression file")
    mode.add_argument("--target", metavar="PKG.MOD:FACTORY",
                      help="contract-level fuzzing of a build through its target contract")
    mode.add_argument("--seed-corpus", action="store_true",
                      help="(checkout) write the reference build's seeds into fuzz/corpus/NAME/ (all harnesses "
                           "unless named) and each harness's dictionary into fuzz/dict/")
    parser.add_argument("--runs", type=_whole("--runs"), help="stop after this many inputs (at least 1)")
    parser.add_argument("--max-time", type=_whole("--max-time"),
                        help="stop after this many seconds (at least 1); with neither --runs nor --max-time a "
                             f"campaign stops after {DEFAULT_MAX_TIME} s")
    parser.add_argument("--corpus", metavar="DIR",
                        help="corpus folder (default: fuzz/corpus/NAME in a checkout, else a seeded temp folder)")
    parser.add_argument("--output", metavar="PATH",
                        help="write the JSON result here for report merge (with --all: a directory, one "
                             "<name>.json per harness)")
    parser.add_argument("--libfuzzer-arg", dest="libfuzzer_args", action="append", default=[],
                        metavar="-FLAG=VALUE", help="passed to libFuzzer unchanged (repeatable)")
    parser.add_argument("-j", "--jobs", type=_whole("--jobs", 1, os.cpu_count() or 1), default=1,
                        help=f"with --all: harnesses run at once, 1 to {os.cpu_count() or 1} (default 1)")
    parser.add_argument("--into", metavar="DIR", help="with --minimize: where the reproducer goes "
                                                      "(default fuzz/regressions/NAME in a checkout)")
    parser.add_argument("--seed", type=_whole("--seed", 0), help="with --target: the seed of the generated "
                                                               "inputs (default: random, printed)")
    parser.add_argument("--surface", dest="surfaces", action="append", metavar="SURFACE",
                        help="with --target: fuzz only this surface (repeatable): stored, bus, gateway")
    parser.add_argument("--load-timeout", type=_seconds, default=None, metavar="SECONDS",
                        help="with --target: how long the factory may take to return")


# The options each mode reads; any other given is refused rather than silently ignored.
_OPTIONS = {"runs": "--runs", "max_time": "--max-time", "corpus": "--corpus", "output": "--output",
            "libfuzzer_args": "--libfuzzer-arg", "jobs": "--jobs", "into": "--into", "seed": "--seed",
            "surfaces": "--surface", "load_timeout": "--load-timeout"}
_MODE_OPTIONS = {
    "campaign": {"runs", "max_time", "corpus", "output", "libfuzzer_args"},
    "all": {"runs", "max_time", "output", "libfuzzer_args", "jobs"},
    "target": {"max_time", "output", "seed", "surfaces", "load_timeout"},
    "minimize": {"into", "runs"},
    "reproduce": set(), "list": set(), "seed_corpus": set(),
}


def _mode(args: argparse.Namespace) -> str:
    for mode in ("list", "target", "seed_corpus", "all", "reproduce", "minimize"):
        if getattr(args, mode):
            return mode
    return "campaign"


def _check_options(args: argparse.Namespace, mode: str) -> None:
    unused = [flag for key, flag in _OPTIONS.items()
              if key not in _MODE_OPTIONS[mode] and getattr(args, key) not in (None, [], 1 if key == "jobs" else None)]
    if unused:
        shown = "a campaign" if mode == "campaign" else f"--{mode.replace('_', '-')}"
        raise FuzzError(f"{', '.join(unused)} cannot be used with {shown}")


def run(args: argparse.Namespace) -> int:
    """Raises ``FuzzError`` for anything the user must fix (printed as one line, exit 2)."""
    _check_options(args, _mode(args))
    try:
        if args.list:
            return _list()
        if args.target:
            return _contract(args)
        if args.seed_corpus:
            return _seed_corpus(args.names)
        if args.all:
            return _all(args)
        name = _one_name(args)
        if args.reproduce:
            return _reproduce(name, [Path(p) for p in args.reproduce])
        if args.minimize:
            kept = campaign.minimize(name, Path(args.minimize), into=Path(args.into) if args.into else None,
                                     runs=args.runs or campaign.MINIMIZE_RUNS)
            print(kept)
            return 0
        result = campaign.run(_campaign(name, args))
        return _single_outcome(result)
    except registry.UnknownHarness as exc:
        raise FuzzError(str(exc)) from None


def _one_name(args: argparse.Namespace) -> str:
    if len(args.names) != 1:
        raise FuzzError("name one harness (see --list)" if not args.names else
                        f"one harness at a time, got {len(args.names)} (--all runs every one)")
    name: str = args.names[0]
    return name


def _campaign(name: str, args: argparse.Namespace, *, output: Path | None = None, echo: bool = True) -> Campaign:
    return Campaign(name, runs=args.runs, max_time=args.max_time,
                    corpus=Path(args.corpus) if args.corpus else None,
                    output=output if output is not None else (Path(args.output) if args.output else None),
                    libfuzzer_args=tuple(args.libfuzzer_args), echo=echo)


def _list() -> int:
    broken = 0
    for name in registry.names():
        try:
            surface = registry.load(name).surface
        except Exception as exc:  # noqa: BLE001 - one broken harness module must not hide the others
            surface, broken = f"(cannot load: {type(exc).__name__}: {str(exc)[:200]})", broken + 1
        print(f"{name:20s} {surface}")
    return 2 if broken else 0


def _single_outcome(result: CampaignResult) -> int:
    if result.found and not result.killed:  # a kill was reported as it happened
        where = ", ".join(str(p) for p in result.artifacts) or "no input kept"
        print(f"aico-secure fuzz: {result.harness}: finding (exit {result.exit_code}): {where}", file=sys.stderr)
    elif not result.measured:
        print(f"aico-secure fuzz: {result.harness}: not measured: libFuzzer's final stats could not be read",
              file=sys.stderr)
    elif result.stats is not None:
        s = result.stats
        print(f"aico-secure fuzz: {result.harness}: {s.executed_units} inputs, {s.execs_per_sec} execs/s, "
              f"cov {_opt(s.cov)}, ft {_opt(s.ft)}, corpus {_opt(s.corpus_units)} inputs, {s.new_units} new, "
              f"peak RSS {s.peak_rss_mb} MB, no finding", file=sys.stderr)
    return result.code


def _all(args: argparse.Namespace) -> int:
    if args.runs is None and args.max_time is None:
        raise FuzzError("--all needs a bound for each harness: --max-time S (or --runs N)")
    if args.corpus:
        raise FuzzError("--corpus names one harness's corpus: not with --all")
    if args.names:
        raise FuzzError("--all runs every harness: name none")
    names = registry.names()
    out_dir = Path(args.output) if args.output else None
    campaigns = [_campaign(n, args, output=out_dir / f"{n}.json" if out_dir else None, echo=False) for n in names]
    for c in campaigns:  # every option checked before the first campaign starts
        campaign.bounds(c)
        campaign.check_passthrough(c.libfuzzer_args)

    def one(c: Campaign) -> CampaignResult:
        started = time.monotonic()
        try:
            return campaign.run(c)
        except Exception as exc:  # noqa: BLE001 - a harness that cannot load or seed ran nothing: not measured
            return CampaignResult(c.harness, 0, False, time.monotonic() - started, None,
                                  tail=[f"{type(exc).__name__}: {exc}"])

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, campaigns))
    _summary(results)
    if any(not r.found and not r.measured for r in results):
        return 2
    return 1 if any(r.found for r in results) else 0


def _summary(results: list[CampaignResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=160, no_color=True)
    table = Table(title="aico-secure fuzz --all")
    for column in ("harness", "execs/s", "cov", "ft", "corpus", "new units", "peak RSS", "findings"):
        table.add_column(column, justify="left" if column in ("harness", "findings") else "right")
    for r in results:
        s = r.stats
        if r.killed:
            verdict = "hang (killed)"
        elif r.found:
            verdict = f"{len(r.artifacts)} input(s)" if r.artifacts else f"exit {r.exit_code}, no input kept"
        elif s is None:
            verdict = "not measured"
        else:
            verdict = "0"
        if s is None:
            figures = ["-"] * 6
        else:
            corpus = "-" if s.corpus_units is None else f"{s.corpus_units}/{_size(s.corpus_bytes or 0)}"
            figures = [str(s.execs_per_sec), _opt(s.cov), _opt(s.ft), corpus, str(s.new_units),
                       f"{s.peak_rss_mb} MB"]
        table.add_row(r.harness, *figures, verdict)
    console.print(table)
    for r in results:
        if r.found or not r.measured:
            console.print(f"{r.harness}: last output:", markup=False)
            console.print("\n".join(f"  {line}" for line in r.tail[-15:]), markup=False, highlight=False)
    found = sum(r.found for r in results)
    unmeasured = sum(not r.found and not r.measured for r in results)
    print(f"aico-secure fuzz: {len(results)} harness(es): {len(results) - found - unmeasured} clean, "
          f"{found} with findings, {unmeasured} not measured")


def _opt(value: int | None) -> str:
    return "-" if value is None else str(value)


def _size(count: int) -> str:
    for unit in ("b", "KB", "MB"):
        if count < 1024:
            return f"{count}{unit}"
        count //= 1024
    return f"{count}GB"


def _reproduce(name: str, paths: list[Path]) -> int:
    from aico_secure.fuzz import replay

    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FuzzError(f"not a file: {', '.join(missing)}")
    failures = replay.replay(registry.load(name), paths)
    for failure in failures:
        print(f"FAIL {failure.path}: {failure.error}")
    print(f"aico-secure fuzz: {name}: {len(paths)} input(s) replayed, {len(failures)} failure(s)",
          file=sys.stderr)
    return 1 if failures else 0


def _seed_corpus(names: list[str]) -> int:
    from aico_secure.fuzz import files

    fuzz_dir = campaign.checkout_fuzz_dir()
    if fuzz_dir is None:
        raise FuzzError("--seed-corpus writes into fuzz/ of a source checkout; this is an installed package")
    for name in names or registry.names():
        registry.load(name)
        written = files.write_seeds(name, fuzz_dir)
        print(f"{name}: {len(written)} seed(s) in {files.corpus_dir(name, fuzz_dir)}")
    return 0


def _contract(args: argparse.Namespace) -> int:
    from aico_secure.fuzz.contract import runner
    from aico_secure.target.loader import DEFAULT_LOAD_TIMEOUT, TargetLoadError, check_target

    if args.names:
        raise FuzzError("--target fuzzes a build through its contract: name no harness")
    surfaces = list(dict.fromkeys(args.surfaces or runner.SURFACES))
    unknown = [s for s in surfaces if s not in runner.SURFACES]
    if unknown:
        raise FuzzError(f"unknown --surface {', '.join(unknown)}; known: {', '.join(runner.SURFACES)}")
    load_timeout = args.load_timeout if args.load_timeout is not None else DEFAULT_LOAD_TIMEOUT
    try:
        check_target(args.target, load_timeout)
    except TargetLoadError as exc:
        raise FuzzError(str(exc)) from None
    seconds = args.max_time if args.max_time is not None else DEFAULT_MAX_TIME
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    print(f"aico-secure fuzz: {args.target}: surfaces {', '.join(surfaces)}, {seconds} s, seed {seed}",
          file=sys.stderr)
    started_at, clock = campaign._now(), time.monotonic()
    result = runner.run(args.target, seconds=seconds, seed=seed, surfaces=surfaces)
    for surface in surfaces:
        status = f"not run: {result.not_run[surface]}" if surface in result.not_run else \
            f"{result.iterations.get(surface, 0)} input(s)"
        print(f"  {surface}: {status}")
    for finding in result.findings:
        print(f"FINDING {finding}")
    if args.output:
        campaign.write_result(Path(args.output), campaign.contract_document(
            args.target, result, seed=seed, seconds=seconds, surfaces=surfaces, started_at=started_at,
            elapsed=time.monotonic() - clock))
    verdict = "ok" if result.ok else (f"{len(result.findings)} finding(s)" if result.findings else "incomplete")
    print(f"aico-secure fuzz: {args.target}: {verdict}" + ("" if result.complete else
                                                           f" (not run: {', '.join(result.not_run)})"))
    if result.findings:
        return 1
    return 0 if result.ok else 2
