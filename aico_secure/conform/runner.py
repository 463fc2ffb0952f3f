"""``aico-secure conform``: run the conformance suite against a target in a fresh pytest process.

A fresh process per run keeps one build's imports and global state away from the next (``--controls`` runs
dozens of builds in a row) and keeps the caller's pytest configuration out of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from aico_secure.conform.suite import suite_dir
from aico_secure.target.loader import TargetLoadError, load_target

INI = Path(__file__).with_name("pytest-conform.ini")


@dataclass
class RunOptions:
    target: str
    profile: str = "quick"
    report_dir: Path | None = Path("reports")
    workers: int = 1
    quiet: bool = False
    extra_args: tuple[str, ...] = ()


def pytest_command(options: RunOptions) -> list[str]:
    suite = suite_dir()
    command = [sys.executable, "-m", "pytest", str(suite), "-c", str(INI), "--rootdir", str(suite),
               f"--aico-target={options.target}", f"--aico-profile={options.profile}"]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        command += ["-p", "aico_secure.conform.plugin"]
    if options.report_dir is not None:
        command.append(f"--aico-report-dir={options.report_dir}")
    if options.workers > 1:
        command += ["-n", str(options.workers)]
    command += ["-q"] if options.quiet else ["-rfE"]
    command += list(options.extra_args)
    return command


def check_target(spec: str) -> None:
    """Fail before starting pytest if the target cannot even be loaded (one clear line, exit 2)."""
    load_target(spec)


def run(options: RunOptions, *, capture: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pytest_command(options), check=False, text=True,
                          capture_output=capture, stdin=subprocess.DEVNULL)


__all__ = ["RunOptions", "TargetLoadError", "check_target", "pytest_command", "run"]
