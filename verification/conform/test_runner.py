"""``aico-secure conform`` end to end, through the installed command line: fail closed, clear errors, one
loader rule, per-test timeouts, and xdist gives the serial verdict."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.conform.runner import INI
from aico_secure.conform.suite import suite_dir

from .conftest import BLOCKING_CONSENT, ROOT, latest_report, run_cli

REQS = "AICO-KM-002,AICO-KM-009,AICO-CON-001,AICO-CON-002,AICO-AUD-003,AICO-DAR-004,AICO-SEC-002"


def conform(tmp_path: Path, *args: str, pythonpath: Path | None = None,
            timeout: float = 600) -> tuple[subprocess.CompletedProcess[str], dict]:  # type: ignore[type-arg]
    out = tmp_path / "reports"
    proc = run_cli(tmp_path, "conform", "--report-dir", str(out), *args, pythonpath=pythonpath, timeout=timeout)
    return proc, latest_report(out)


def test_a_run_that_executes_no_test_fails(tmp_path: Path) -> None:
    proc, report = conform(tmp_path, "--target", "aico_secure.reference:build", "--pytest-args", "-k",
                           "no_test_has_this_name")
    assert proc.returncode == 1
    assert report["verdict"] == "fail"
    assert {r["outcome"] for r in report["requirements"]} == {"not tested"}


@pytest.mark.parametrize("spec, message", [
    ("no_such_module_xyz:build", "cannot import"),
    ("aico_secure.reference:nope", "no callable"),
    ("not a spec", "package.module:factory"),
    ("aico_secure.target.errors:ContractError", "not aico_secure.target.Target"),
])
def test_a_bad_target_is_one_clear_line_and_exit_2(tmp_path: Path, spec: str, message: str) -> None:
    proc, report = conform(tmp_path, "--target", spec)
    assert proc.returncode == 2 and not report
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_parallel_run_gives_the_serial_verdict(tmp_path: Path) -> None:
    serial_proc, serial = conform(tmp_path / "serial", "--target", "aico_secure.reference:build",
                                  "--pytest-args", f"--aico-requirements={REQS}")
    parallel_proc, parallel = conform(tmp_path / "parallel", "--target", "aico_secure.reference:build", "-n", "2",
                                      "--pytest-args", f"--aico-requirements={REQS}")
    assert serial_proc.returncode == parallel_proc.returncode == 0, serial_proc.stdout[-2000:]

    def shape(report: dict) -> dict:  # type: ignore[type-arg]
        return {r["id"]: (r["outcome"], sorted((t["nodeid"], t["outcome"]) for t in r["tests"]))
                for r in report["requirements"]}

    assert shape(serial) == shape(parallel)
    assert set(REQS.split(",")) <= set(shape(serial))


FACTORIES = {
    "factory calls sys.exit(0)": "import sys\ndef build():\n    sys.exit(0)\n",
    "factory raises KeyboardInterrupt": "def build():\n    raise KeyboardInterrupt\n",
    "factory calls os._exit(0)": "import os\ndef build():\n    os._exit(0)\n",
    "factory blocks": "import threading\ndef build():\n    threading.Event().wait()\n",
    "import raises": "raise RuntimeError('broken at import')\n",
    "factory returns a string": "def build():\n    return 'not a target'\n",
}


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_a_target_that_cannot_load_is_exit_2_whatever_it_does(tmp_path: Path, module_dir: Path, kind: str,
                                                              target_module: Callable[[str], str]) -> None:
    spec = f"{target_module(FACTORIES[kind])}:build"
    proc, report = conform(tmp_path, "--target", spec, "--load-timeout", "2", pythonpath=module_dir, timeout=60)
    assert proc.returncode == 2 and not report, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("aico-secure conform: target cannot load: "), proc.stderr


def test_sys_exit_as_the_target_is_exit_2(tmp_path: Path) -> None:
    proc, report = conform(tmp_path, "--target", "sys:exit", timeout=60)
    assert proc.returncode == 2 and not report
    assert "target cannot load" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["factory calls sys.exit(0)", "factory raises KeyboardInterrupt",
                                  "factory calls os._exit(0)"])
def test_inside_pytest_a_target_that_cannot_load_fails_the_run(tmp_path: Path, module_dir: Path, kind: str,
                                                               target_module: Callable[[str], str]) -> None:
    """The plugin loads under the same rule: the run fails, every test errors, the report says why."""
    spec = f"{target_module(FACTORIES[kind])}:build"
    suite = suite_dir()
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "pytest", str(suite), "-c", str(INI), "--rootdir", str(suite), "-q",
                           f"--aico-target={spec}", "--aico-requirements=AICO-CON-001", f"--aico-report-dir={out}",
                           "--aico-report-format=json", "--aico-load-timeout=5"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTHONPATH": f"{module_dir}{os.pathsep}{ROOT}"})
    report = latest_report(out)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert report["verdict"] == "fail"
    [requirement] = report["requirements"]
    assert requirement["outcome"] == "error" and requirement["tests"]
    assert all("target cannot load" in t["message"] for t in requirement["tests"]), requirement["tests"]
    assert any("target cannot load" in note for note in report["notes"]), report["notes"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_blocked_capability_is_an_error_and_the_run_ends(tmp_path: Path, module_dir: Path, workers: str,
                                                           target_module: Callable[[str], str]) -> None:
    spec = f"{target_module(BLOCKING_CONSENT)}:build"
    # One test, blocked in its call and again in its teardown (close() blocks too): both phases are bounded.
    proc, report = conform(tmp_path, "--target", spec, "--test-timeout", "1", "-n", workers,
                           "--pytest-args", "--aico-requirements=AICO-CON-001",
                           "-k", "test_nothing_is_allowed_without_a_grant",
                           pythonpath=module_dir, timeout=240)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert report["verdict"] == "fail"
    [requirement] = report["requirements"]
    assert requirement["id"] == "AICO-CON-001" and requirement["outcome"] == "error"
    assert requirement["tests"] and all(t["outcome"] == "error" for t in requirement["tests"])
    # The call phase timed out (told apart from an assertion failure), then the blocked teardown did too.
    assert all(t["message"].startswith("timed out in call after 1 s") for t in requirement["tests"]), \
        requirement["tests"]
