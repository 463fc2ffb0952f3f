#!/usr/bin/env python3
"""The two set-up-and-run commands of this checkout (see README):

    python3 dev.py conform   # conformance suite against the reference build, report under reports/
    python3 dev.py test      # the project's tests (verification + conformance + controls)

Each creates ``.venv`` on first use (or when pyproject.toml changed) and installs the project into it, so a
fresh machine with Python 3.11 and pip needs nothing else. Extra arguments go to pytest / aico-secure.

With ``CI`` set, ``test`` also measures branch coverage of ``aico_secure`` (``AICO_COVERAGE=0`` turns it off,
``AICO_COVERAGE=1`` on outside CI): ``reports/coverage/coverage.xml`` for CI services, ``coverage.json``,
``summary.txt`` (per module) and ``packages.txt`` (per package, also printed at the end). Coverage is a
measurement, never a gate: the exit code is pytest's, whatever happens to the coverage reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".aico-secure-installed"
PYTHON = VENV / "bin" / "python"
COVERAGE_DIR = ROOT / "reports" / "coverage"


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_environment() -> None:
    if not PYTHON.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    print("dev.py: installing aico-secure and its dependencies into .venv", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(_fingerprint())


def _coverage_wanted(env: dict[str, str]) -> bool:
    """CI measures coverage unless told not to; a local run only when asked, since it slows every test."""
    setting = env.get("AICO_COVERAGE", "")
    if setting in ("0", "1"):
        return setting == "1"
    if not env.get("CI"):
        return False
    found = subprocess.run([str(PYTHON), "-c", "import pytest_cov"], capture_output=True, check=False)
    if found.returncode != 0:
        print("dev.py: pytest-cov is not installed in .venv; running the tests without coverage", flush=True)
        return False
    return True


def _start_coverage(env: dict[str, str]) -> list[str]:
    """Fresh data for this run, in one place every measured process writes to (COVERAGE_FILE is inherited)."""
    COVERAGE_DIR.mkdir(parents=True, exist_ok=True)
    for stale in COVERAGE_DIR.glob(".coverage*"):
        stale.unlink()
    env["COVERAGE_FILE"] = str(COVERAGE_DIR / ".coverage")
    return ["--cov=aico_secure", "--cov-branch", "--cov-report="]


def _package(path: str) -> str:
    """aico_secure/keys/ring.py -> aico_secure.keys; the top-level modules are grouped as aico_secure."""
    parts = Path(path).parts
    index = parts.index("aico_secure") if "aico_secure" in parts else 0
    return ".".join(parts[index:index + 2]) if len(parts) - index > 2 else "aico_secure"


def _package_table(report: dict[str, object]) -> str:
    """Per-package statements and branches, combined as coverage.py combines them into its own percentage."""
    totals: dict[str, list[int]] = {}
    files = report.get("files")
    assert isinstance(files, dict)
    for path, data in files.items():
        summary = data["summary"]
        row = totals.setdefault(_package(path), [0, 0, 0, 0])
        row[0] += summary["num_statements"]
        row[1] += summary["covered_lines"]
        row[2] += summary.get("num_branches", 0)
        row[3] += summary.get("covered_branches", 0)
    lines = [f"{'package':<34} {'stmts':>7} {'miss':>6} {'branch':>7} {'bmiss':>6} {'cover':>7}"]
    grand = [0, 0, 0, 0]
    for name, (stmts, covered, branches, covered_branches) in sorted(totals.items()):
        grand = [g + v for g, v in zip(grand, (stmts, covered, branches, covered_branches), strict=True)]
        lines.append(_row(name, stmts, covered, branches, covered_branches))
    lines.append(_row("TOTAL", *grand))
    return "\n".join(lines) + "\n"


def _row(name: str, stmts: int, covered: int, branches: int, covered_branches: int) -> str:
    whole = stmts + branches
    percent = 100.0 * (covered + covered_branches) / whole if whole else 100.0
    return (f"{name:<34} {stmts:>7} {stmts - covered:>6} {branches:>7} {branches - covered_branches:>6} "
            f"{percent:>6.1f}%")


def _finish_coverage(env: dict[str, str]) -> None:
    """Combines what every process wrote and writes the reports; a failure here is reported, never raised."""
    coverage = [str(PYTHON), "-m", "coverage"]
    # pytest-cov has combined its workers' files already; this picks up any it left. A leftover file that cannot
    # be read (a process killed while writing) is reported and skipped: the combined data is still reported.
    combined = subprocess.run([*coverage, "combine", "--append", "--quiet"], cwd=ROOT, env=env, capture_output=True,
                              text=True, check=False)
    if combined.returncode != 0 and "No data to combine" not in combined.stdout + combined.stderr:
        print(f"dev.py: coverage combine: {(combined.stdout + combined.stderr).strip()}", flush=True)
    for step in ("xml", "json"):
        target = COVERAGE_DIR / f"coverage.{step}"
        done = subprocess.run([*coverage, step, "--quiet", "-o", str(target)], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"dev.py: coverage {step} failed: {(done.stdout + done.stderr).strip()}", flush=True)
            return
    summary = subprocess.run([*coverage, "report"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    (COVERAGE_DIR / "summary.txt").write_text(summary.stdout)
    try:
        table = _package_table(json.loads((COVERAGE_DIR / "coverage.json").read_text()))
    except (OSError, ValueError, KeyError, AssertionError) as exc:
        print(f"dev.py: coverage per-package summary failed: {exc}", flush=True)
        return
    (COVERAGE_DIR / "packages.txt").write_text(table)
    print(f"\nbranch coverage of aico_secure (per module: {COVERAGE_DIR / 'summary.txt'}, "
          f"XML: {COVERAGE_DIR / 'coverage.xml'})\n{table}", end="", flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("conform", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_environment()
    env = dict(os.environ)
    if argv[0] == "conform":
        command = [str(VENV / "bin" / "aico-secure"), "conform", "--target", "aico_secure.reference:build",
                   "--profile", "quick", "--report-dir", str(ROOT / "reports"), *argv[1:]]
        return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    env.setdefault("AICO_HYPOTHESIS_PROFILE", "ci" if env.get("CI") else "dev")
    measure = _coverage_wanted(env)
    cov_args = _start_coverage(env) if measure else []
    code = subprocess.run([str(PYTHON), "-m", "pytest", *cov_args, *argv[1:]], cwd=ROOT, env=env,
                          check=False).returncode
    if measure:
        try:
            _finish_coverage(env)
        except OSError as exc:  # a full disk or a missing tool must not turn the tests' verdict around
            print(f"dev.py: coverage reports not written: {exc}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
