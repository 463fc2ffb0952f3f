"""``aico-secure conform``: run the conformance suite against a target in a fresh pytest process.

A fresh process per run keeps one build's imports and global state away from the next (``--controls`` runs
dozens of builds in a row) and keeps the caller's pytest configuration out of the suite. Every option is
checked by ``validate`` before anything runs, and the target is loaded once in a child process with a deadline
(``check_target``), so a run never starts against a build that cannot load.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from aico_secure.conform import limits
from aico_secure.conform.suite import suite_dir
from aico_secure.target.loader import DEFAULT_LOAD_TIMEOUT, TargetIdentity, TargetLoadError
from aico_secure.target.loader import check_target as _check_in_child

INI = Path(__file__).with_name("pytest-conform.ini")


class OptionError(Exception):
    """An option of a conformance run is invalid; the run does not start (one line, exit 2)."""


@dataclass
class RunOptions:
    target: str
    profile: str = "quick"
    report_dir: Path | None = Path("reports")
    workers: int = 1
    quiet: bool = False
    extra_args: tuple[str, ...] = ()
    test_timeout: float | None = None  # None: the profile's default (limits.DEFAULT_TEST_TIMEOUT)
    load_timeout: float = DEFAULT_LOAD_TIMEOUT
    report_formats: tuple[str, ...] = ()  # empty: limits.DEFAULT_FORMATS, those the registry knows
    requirements: tuple[str, ...] = ()  # empty: every requirement
    waivers: Path | None = None
    baseline: Path | None = None
    progress: bool = False  # a rich progress bar on stderr (the caller checks that stderr is a terminal)


def report_formats(options: RunOptions) -> tuple[str, ...]:
    return options.report_formats or limits.default_formats()


def validate(options: RunOptions) -> None:
    """Every option, checked before anything runs and before anything is created: the report directory is
    created and write-tested last, so a refused waiver file or baseline leaves no trace."""
    from aico_secure.conform.catalog import default_catalog
    from aico_secure.report import document, waivers

    try:
        limits.check_profile(options.profile)
        limits.check_workers(options.workers)
        if options.test_timeout is not None:
            limits.check_timeout("--test-timeout", options.test_timeout)
        limits.check_timeout("--load-timeout", options.load_timeout)
        limits.check_report_formats(report_formats(options))
        if options.requirements:
            limits.check_requirements(options.requirements)
        if options.waivers is not None:
            waivers.load(options.waivers, default_catalog(), options.profile)
        if options.baseline is not None:
            document.load(options.baseline)
        if options.report_dir is not None:
            limits.check_report_dir(options.report_dir)
    except (limits.LimitError, waivers.WaiverError) as exc:
        raise OptionError(str(exc)) from None
    except document.ReportError as exc:
        raise OptionError(f"--baseline: {exc}") from None


def pytest_command(options: RunOptions) -> list[str]:
    suite = suite_dir()
    command = [sys.executable, "-m", "pytest", str(suite), "-c", str(INI), "--rootdir", str(suite),
               f"--aico-target={options.target}", f"--aico-profile={options.profile}",
               f"--aico-load-timeout={options.load_timeout:g}",
               f"--aico-report-format={','.join(report_formats(options))}"]
    if options.requirements:
        command.append(f"--aico-requirements={','.join(options.requirements)}")
    if options.waivers is not None:
        command.append(f"--aico-waivers={options.waivers}")
    if options.baseline is not None:
        command.append(f"--aico-baseline={options.baseline}")
    if options.test_timeout is not None:
        command.append(f"--aico-test-timeout={options.test_timeout:g}")
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        command += ["-p", "aico_secure.conform.plugin", "-p", "timeout"]
        if options.workers > 1:
            command += ["-p", "xdist"]
    if options.progress and not options.quiet:
        command += ["-p", "aico_secure.conform.progress"]
    if options.report_dir is not None:
        command.append(f"--aico-report-dir={options.report_dir}")
    if options.workers > 1:
        command += ["-n", str(options.workers)]
    command += ["-q"] if options.quiet else ["-rfE"]
    command += list(options.extra_args)
    return command


def check_target(spec: str, timeout: float = DEFAULT_LOAD_TIMEOUT) -> TargetIdentity:
    """Fail before starting pytest if the target cannot load (one clear line, exit 2): any exception or exit
    from import or factory, a non-Target, a dead child, or no answer within ``timeout`` seconds."""
    return _check_in_child(spec, timeout)


# The lines ``--quiet`` keeps from the plugin's terminal summary: the verdict, the report paths, regressions.
_QUIET_KEEP = re.compile(r"^(target .*, profile \w+: (PASS|FAIL)\b|report written: |regression against the baseline: )")
_QUIET_TAIL = 20


def quiet_lines(output: str, returncode: int) -> list[str]:
    """What ``--quiet`` shows of a run's output: the verdict line and the report paths; a run that ended without
    a verdict shows its last lines instead, so CI never fails with nothing to read."""
    kept = [line for line in output.splitlines() if _QUIET_KEEP.match(line)]
    if returncode != 0 and not any(line.startswith("target ") for line in kept):
        kept = output.splitlines()[-_QUIET_TAIL:]
    return kept


def run(options: RunOptions, *, capture: bool = False) -> subprocess.CompletedProcess[str]:
    if not options.quiet or capture:
        return subprocess.run(pytest_command(options), check=False, text=True,
                              capture_output=capture, stdin=subprocess.DEVNULL)
    proc = subprocess.run(pytest_command(options), check=False, text=True, stdout=subprocess.PIPE,
                          stdin=subprocess.DEVNULL)
    for line in quiet_lines(proc.stdout or "", proc.returncode):
        print(line, flush=True)
    return proc


__all__ = ["OptionError", "RunOptions", "TargetLoadError", "check_target", "pytest_command", "quiet_lines",
           "report_formats", "run", "validate"]
