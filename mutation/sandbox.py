"""A private copy of the checkout where mutants are written and the suite runs against them.

Why a copy: mutating files in place (cosmic-ray's own way) would hand every other test run in this checkout
a broken reference build. The copy holds only what a conformance run reads (the package, the suite, the
pytest configuration); ``PYTHONPATH`` puts it ahead of the editable install, and every run checks that the
package really imports from the copy before any result counts.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mutation.catalog import REPO

COPIED = ("aico_secure", "conformance", "conftest.py", "pyproject.toml")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "reports")
_FIRST_FAILURE = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


class SandboxError(RuntimeError):
    """The copy is not a faithful, green reference build, so no mutant result from it would mean anything."""


@dataclass(frozen=True)
class RunResult:
    """One pytest run: its exit code (None when stopped by the timeout), time and first failing test."""

    exit_code: int | None
    seconds: float
    first_failure: str | None
    tail: str

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None


class Sandbox:
    """A copy of the checkout under ``root`` that runs conformance areas against the reference build."""

    def __init__(self, root: Path, target: str, source: Path = REPO, ignore: Sequence[str] = ()) -> None:
        self.root = root
        self.target = target
        self.ignore = tuple(ignore)  # test files left out of every run (recorded in the results' meta)
        root.mkdir(parents=True, exist_ok=True)
        for name in COPIED:
            src = source / name
            if src.is_dir():
                shutil.copytree(src, root / name, ignore=_IGNORE, dirs_exist_ok=True)
            else:
                shutil.copy2(src, root / name)
        self._check_import()

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_", "HYPOTHESIS"))}
        env["PYTHONPATH"] = str(self.root)
        # No bytecode from a mutant may outlive it; the unmutated modules compile in well under a second.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["AICO_HYPOTHESIS_PROFILE"] = "dev"
        # Hypothesis's example database lives in the aico-secure cache directory: keep it in the copy, where
        # run_areas removes it, so no mutant replays another's failure (and --hypothesis-seed=0 stays exact).
        env["AICO_SECURE_CACHE_DIR"] = str(self.root / ".hypothesis")
        return env

    def _check_import(self) -> None:
        probe = subprocess.run(
            [sys.executable, "-c", "import aico_secure, sys; sys.stdout.write(aico_secure.__file__)"],
            cwd=self.root, env=self._env(), capture_output=True, text=True, timeout=60, check=False,
        )
        where = Path(probe.stdout.strip()).resolve() if probe.returncode == 0 else None
        if where is None or not where.is_relative_to(self.root.resolve()):
            raise SandboxError(f"aico_secure imports from {where or probe.stderr.strip()!r}, not the sandbox copy")

    def run_areas(self, areas: Sequence[str], timeout: float) -> RunResult:
        """Run the quick profile of ``areas`` with ``-x``; stop the whole process group at ``timeout``."""
        shutil.rmtree(self.root / ".hypothesis", ignore_errors=True)  # no replay of one mutant's failure in the next
        basetemp = self.root / ".tmp"
        shutil.rmtree(basetemp, ignore_errors=True)
        command = [
            sys.executable, "-m", "pytest", *(f"conformance/{a}" for a in areas),
            f"--aico-target={self.target}", "--aico-profile=quick", f"--aico-report-dir={self.root / 'reports'}",
            "-x", "-q", "--no-header", "--hypothesis-seed=0", f"--basetemp={basetemp}",
            *(f"--ignore={path}" for path in self.ignore),
        ]
        start = time.monotonic()
        proc = subprocess.Popen(command, cwd=self.root, env=self._env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            code = None
        text = out.decode("utf-8", "replace")
        failure = _FIRST_FAILURE.search(text)
        return RunResult(code, time.monotonic() - start, failure.group(1) if failure else None, text[-3000:])

    def write(self, module: str, source: str) -> None:
        """Replace one module's source in the copy, keeping its timestamp semantics simple (no bytecode)."""
        (self.root / module).write_text(source, encoding="utf-8")

    def restore(self, module: str, original: str) -> None:
        self.write(module, original)

    def read(self, module: str) -> str:
        return (self.root / module).read_text(encoding="utf-8")
