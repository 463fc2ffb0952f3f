"""``aico-secure conform`` end to end: fail closed, clear errors, xdist gives the serial verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REQS = "AICO-KM-002,AICO-KM-009,AICO-CON-001,AICO-CON-002,AICO-AUD-003,AICO-DAR-004,AICO-SEC-002"


def conform(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:  # type: ignore[type-arg]
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "conform", "--report-dir", str(out), *args],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=tmp_path)
    reports = sorted(out.glob("*.json"))
    return proc, (json.loads(reports[-1].read_text()) if reports else {})


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
