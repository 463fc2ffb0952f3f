"""``aico-secure``: argument parsing only; each subcommand hands off to the module that does the work.

Exit codes: 0 success/clean, 1 the check found a problem, 2 usage error or unreadable input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from aico_secure import __version__
from aico_secure.config import ConfigError, cache, layering
from aico_secure.conform.limits import DEFAULT_FORMATS, DEFAULT_TEST_TIMEOUT, MAX_WORKERS
from aico_secure.target.loader import DEFAULT_LOAD_TIMEOUT


class CliError(Exception):
    """A usage or input problem: printed as one line, exit 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2, like every other bad input here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _seconds(option: str) -> Callable[[str], float]:
    """An argparse type for a timeout: a finite number of seconds > 0."""

    def parse(text: str) -> float:
        from aico_secure.conform import limits

        try:
            return limits.parse_timeout(option, text)
        except limits.LimitError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _controls(args: argparse.Namespace) -> int:
    from aico_secure.conform import controls

    try:
        controls.require_reference()
        zoo = controls.discover()
    except (controls.ControlDefinitionError, controls.ReferenceMissing, SyntaxError, ValueError) as exc:
        raise CliError(str(exc)) from None
    if not zoo:
        raise CliError("no negative controls found: suite power cannot be measured")
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        counts = {"caught": 0, "missed": 0}
        bar = Progress(TextColumn("negative controls"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("[green]{task.fields[caught]} caught[/] [red]{task.fields[missed]} missed[/]"),
                       TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True)
        task = bar.add_task("controls", total=len(zoo), caught=0, missed=0)

        def advance(result: controls.ControlResult) -> None:
            counts["caught" if result.caught else "missed"] += 1
            bar.update(task, advance=1, caught=counts["caught"], missed=counts["missed"])
            if not result.caught:
                bar.console.print(f"  {result.control.name}: MISSED")

        with bar:
            results = controls.run_all(zoo, workers=args.workers, profile=args.profile, progress=advance)
    else:
        results = controls.run_all(zoo, workers=args.workers, profile=args.profile,
                                   progress=lambda r: print(f"  {r.control.name}: "
                                                            f"{'caught' if r.caught else 'MISSED'}", flush=True))
    table, power = controls.power_table(results)
    print(table)
    return 0 if power == 1.0 else 1


def _conform(args: argparse.Namespace) -> int:
    with cache.exported(cache.resolve(getattr(args, "cache_dir", None))):  # the suite's processes inherit it
        return _conform_run(args)


def _conform_run(args: argparse.Namespace) -> int:
    from aico_secure.conform import runner

    if args.controls:
        from aico_secure.conform import limits

        try:
            limits.check_workers(args.workers)
        except limits.LimitError as exc:
            raise CliError(str(exc)) from None
        return _controls(args)
    if not args.target:
        raise CliError("--target is required (or --controls to measure suite power)")
    # --format and the old --report-format (comma-separated) add to one list; none: the default formats.
    formats = [*(args.formats or ()), *(n for text in args.report_format or () for n in text.split(","))]
    options = runner.RunOptions(
        target=args.target, profile=args.profile,
        report_dir=None if args.no_report else Path(args.output), workers=args.workers, quiet=args.quiet,
        extra_args=tuple(args.pytest_args or ()), test_timeout=args.test_timeout, load_timeout=args.load_timeout,
        report_formats=tuple(formats), requirements=tuple(args.requirements or ()),
        waivers=Path(args.waivers) if args.waivers else None,
        baseline=Path(args.baseline) if args.baseline else None,
        progress=sys.stderr.isatty() and not args.quiet,
    )
    try:
        runner.validate(options)  # every option before anything runs
        runner.check_target(args.target, args.load_timeout)
    except (runner.OptionError, runner.TargetLoadError) as exc:
        raise CliError(str(exc)) from None
    code = runner.run(options).returncode
    return 0 if code == 0 else (2 if code in (3, 4) else 1)


def _inspect(args: argparse.Namespace) -> int:
    from aico_secure.inspector import InspectorError, command
    from aico_secure.target import ContractError

    try:
        return command.run(args)
    except (InspectorError, ContractError) as exc:
        raise CliError(str(exc)) from None


def _report(args: argparse.Namespace) -> int:
    from aico_secure.report import command
    from aico_secure.report.document import ReportError
    from aico_secure.report.signing import SigningError

    try:
        return command.run(args)
    except (SigningError, ReportError) as exc:
        raise CliError(str(exc)) from None


def _scan(args: argparse.Namespace) -> int:
    from aico_secure.scan import command
    from aico_secure.scan.errors import ScanError

    try:
        return command.run(args)
    except ScanError as exc:
        raise CliError(str(exc)) from None


def _config(args: argparse.Namespace) -> int:
    from aico_secure.config import show

    return show.run(args)


def _audit(args: argparse.Namespace) -> int:
    from aico_secure.audit import command

    try:
        return command.run(args)
    except command.AuditCommandError as exc:
        raise CliError(str(exc)) from None


def _keyring(args: argparse.Namespace) -> int:
    from aico_secure.keys import command

    try:
        return command.run(args)
    except command.KeyringCommandError as exc:
        print(f"aico-secure keyring: {exc}", file=sys.stderr)
        return exc.code


def _fuzz(args: argparse.Namespace) -> int:
    from aico_secure.fuzz import command
    from aico_secure.fuzz.campaign import FuzzError

    try:
        return command.run(args)
    except FuzzError as exc:
        raise CliError(str(exc)) from None


COMMANDS = ("conform", "inspect", "scan", "report", "audit", "keyring", "fuzz", "config")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with ``only`` just that command's options in full: the other commands' modules are
    not imported, so a bad option of one command is refused without paying for every other command's imports."""

    def wanted(name: str) -> bool:
        return only is None or only == name

    parser = OneLineParser(prog="aico-secure", description="Verify an AICO build against its "
                           "data-security architecture.")
    parser.add_argument("--version", action="version", version=f"aico-secure {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    conform = sub.add_parser("conform", help="run the conformance suite against a build")
    conform.add_argument("--target", metavar="PKG.MOD:FACTORY", help="the build's target factory")
    conform.add_argument("--controls", action="store_true",
                         help="run the suite against every negative control and print the suite's power")
    conform.add_argument("--profile", choices=("quick", "full", "release"), default="quick")
    conform.add_argument("--output", "--report-dir", dest="output", default="reports", metavar="DIR",
                         help="where reports are written, one file per format with one timestamped name "
                              "(default: reports; --report-dir is the old spelling)")
    conform.add_argument("--format", dest="formats", action="append", metavar="FMT",
                         help="report format to write, repeatable, from the report registry (default: "
                              + ", ".join(DEFAULT_FORMATS) + ")")
    conform.add_argument("--report-format", action="append", metavar="FMT[,FMT]",
                         help="the old spelling of --format: comma-separated formats")
    conform.add_argument("--requirement", dest="requirements", action="append", metavar="ID",
                         help="run only this requirement's tests (repeatable; each must be in the catalog)")
    conform.add_argument("--waivers", metavar="FILE",
                         help="a YAML waiver file (requirement, justification, approver, expires, run); every "
                              "waiver is checked before the run starts")
    conform.add_argument("--baseline", metavar="REPORT",
                         help="an earlier JSON report; anything worse than there (report diff's rules: a worse "
                              "outcome, a requirement no longer judged) fails the run (exit 1) and is listed")
    conform.add_argument("-q", "--quiet", action="store_true",
                         help="for CI: print only the verdict line and the report paths")
    conform.add_argument("--no-report", action="store_true", help="print the verdict only")
    conform.add_argument("-n", "--workers", type=int, default=1,
                         help=f"parallel pytest-xdist workers, 1 to {MAX_WORKERS} (default 1)")
    conform.add_argument("--test-timeout", type=_seconds("--test-timeout"), metavar="SECONDS",
                         help="per-test timeout; a test that runs out of time is \"error\", which fails its "
                              "requirement (default by profile: "
                              + ", ".join(f"{p} {t:g} s" for p, t in DEFAULT_TEST_TIMEOUT.items()) + ")")
    conform.add_argument("--load-timeout", type=_seconds("--load-timeout"), default=DEFAULT_LOAD_TIMEOUT,
                         metavar="SECONDS", help="how long the target factory may take to return; longer is "
                                                 f"\"target cannot load\", exit 2 (default {DEFAULT_LOAD_TIMEOUT:g} s)")
    conform.add_argument("--cache-dir", metavar="DIR",
                         help=f"cached state, Hypothesis's example database (default: ${cache.ENV}, else "
                              "cache-dir in [tool.aico-secure], else $XDG_CACHE_HOME/aico-secure or "
                              "~/.cache/aico-secure)")
    layering.add_config_option(conform)
    conform.add_argument("--pytest-args", nargs=argparse.REMAINDER, help="passed to pytest unchanged")
    conform.set_defaults(handler=_conform)

    inspect = sub.add_parser("inspect", help="look for canaries, embeddings and keys readable in a data directory")
    if wanted("inspect"):
        from aico_secure.inspector.command import configure as configure_inspect

        configure_inspect(inspect)
        layering.add_config_option(inspect)
    inspect.set_defaults(handler=_inspect)

    scan = sub.add_parser("scan", help="static, configuration, dependency and cryptography scans of a source tree")
    if wanted("scan"):
        from aico_secure.scan.command import configure as configure_scan

        configure_scan(scan)
        layering.add_config_option(scan)
    scan.set_defaults(handler=_scan)

    report = sub.add_parser("report", help="merge, render, diff, sign and verify reports")
    if wanted("report"):
        from aico_secure.report.command import configure as configure_report

        configure_report(report)
    report.set_defaults(handler=_report)

    audit = sub.add_parser("audit", help="verify a tamper-evident audit log")
    if wanted("audit"):
        from aico_secure.audit.command import configure as configure_audit

        configure_audit(audit)
    audit.set_defaults(handler=_audit)

    keyring = sub.add_parser("keyring", help="create, inspect, check, rotate or re-password a keyring")
    if wanted("keyring"):
        from aico_secure.keys.command import configure as configure_keyring

        configure_keyring(keyring)
    keyring.set_defaults(handler=_keyring)

    fuzz = sub.add_parser("fuzz", help="fuzzing campaigns of the parsers, replay, minimise, or contract-level "
                                       "fuzzing of a build")
    if wanted("fuzz"):
        from aico_secure.fuzz.command import configure as configure_fuzz

        configure_fuzz(fuzz)
    fuzz.set_defaults(handler=_fuzz)

    config = sub.add_parser("config", help="show the options [tool.aico-secure] in pyproject.toml gives each "
                                           "command (docs/configuration.md)")
    if wanted("config"):
        from aico_secure.config.show import configure as configure_config

        configure_config(config)
    config.set_defaults(handler=_config)

    return parser


def _chosen_command(argv: Sequence[str]) -> str | None:
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS and argv and argv[0] == first else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_chosen_command(sys.argv[1:] if argv is None else argv))
    try:
        args = layering.parse_args(parser, argv)  # the command line over [tool.aico-secure] over the defaults
    except ConfigError as exc:
        print(f"aico-secure: {exc}", file=sys.stderr)
        return 2
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.handler(args)
        return code
    except (CliError, ConfigError) as exc:
        print(f"aico-secure {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
