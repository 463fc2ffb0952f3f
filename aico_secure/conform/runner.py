"""``aico-secure conform``: run the conformance suite against a target in a fresh pytest process.

A fresh process per run keeps one build's imports and global state away from the next (``--controls`` runs
dozens of builds in a row) and keeps the caller's pytest configuration out of the suite. Every option is
checked by ``validate`` before anything runs, and the target is loaded once in a child process with a deadline
(``check_target``), so a run never starts against a build that cannot load.
"""

from __future__ import annotations

import os
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
    report_formats: tuple[str, ...] = ("json", "markdown")


def validate(options: RunOptions) -> None:
    """Every option, checked before anything runs; the report directory is created and write-tested here."""
    try:
        limits.check_profile(options.profile)
        limits.check_workers(options.workers)
        if options.test_timeout is not None:
            limits.check_timeout("--test-timeout", options.test_timeout)
        limits.check_timeout("--load-timeout", options.load_timeout)
        limits.check_report_formats(",".join(options.report_formats))
        if options.report_dir is not None:
            limits.check_report_dir(options.report_dir)
    except limits.LimitError as exc:
        raise OptionError(str(exc)) from None


def pytest_command(options: RunOptions) -> list[str]:
    suite = suite_dir()
    command = [sys.executable, "-m", "pytest", str(suite), "-c", str(INI), "--rootdir", str(suite),
               f"--aico-target={options.target}", f"--aico-profile={options.profile}",
               f"--aico-load-timeout={options.load_timeout:g}",
               f"--aico-report-format={','.join(options.report_formats)}"]
    if options.test_timeout is not None:
        command.append(f"--aico-test-timeout={options.test_timeout:g}")
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        command += ["-p", "aico_secure.conform.plugin", "-p", "timeout"]
        if options.workers > 1:
            command += ["-p", "xdist"]
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


def run(options: RunOptions, *, capture: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pytest_command(options), check=False, text=True,
                          capture_output=capture, stdin=subprocess.DEVNULL)


__all__ = ["OptionError", "RunOptions", "TargetLoadError", "check_target", "pytest_command", "run", "validate"]
