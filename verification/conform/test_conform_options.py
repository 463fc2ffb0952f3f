"""``aico-secure conform``'s report options (``--format``, ``--output`` and their old spellings), ``--requirement``,
``--baseline``, ``--quiet`` and the hypothesis seed, through the real command line: every bad value is one line
and exit 2 before pytest starts; what a run writes and prints is what CI reads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from aico_secure.conform import limits, runner

TARGET = "aico_secure.reference:build"
ONE_TEST = ("--requirement", "AICO-CON-001", "--pytest-args", "-k", "test_nothing_is_allowed_without_a_grant")
ANSI = "\x1b["
VERDICT = re.compile(r"^target \S+ \(.*\), profile quick: (PASS|FAIL) \(.*\)$")
# Records, in every process of a run (controller and xdist workers), the seed hypothesis was forced to use.
SEED_PROBE = """
    import os
    from pathlib import Path


    def pytest_sessionfinish(session):
        from hypothesis import core

        worker = getattr(session.config, "workerinput", {}).get("workerid", "controller")
        (Path(os.environ["SEED_PROBE_DIR"]) / worker).write_text(str(core.global_force_seed))
"""
NO_CONSENT = """
    from dataclasses import replace

    from aico_secure.reference import build as reference


    def build():
        return replace(reference(), name="no consent", consent=None)
"""


def cli(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180) \
        -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False,
                          env={**os.environ, **(env or {})})


def json_report(folder: Path) -> dict[str, Any]:
    [found] = sorted(folder.glob("conformance-*.json"))
    loaded: dict[str, Any] = json.loads(found.read_text())
    return loaded


@pytest.fixture(scope="module")
def passing_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One quiet run of one passing test, writing JSON and Markdown (named twice: ``md`` is its alias)."""
    where = tmp_path_factory.mktemp("passing")
    proc = cli(where, "conform", "--target", TARGET, "--quiet", "--output", str(where / "reports"),
               "--format", "json", "--format", "md", "--format", "markdown", *ONE_TEST)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr)
    return where / "reports", proc


# ---- refused up front ----------------------------------------------------------------------------------------
def _bad_options(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "not-json.json").write_text("{ nope")
    (tmp_path / "not-a-report.json").write_text('{"report": "something else"}')
    (tmp_path / "invalid-report.json").write_text('{"report": "aico-secure-report", "report_version": 2}')
    return {
        "unknown format": (["--format", "xml"], "unknown report format(s) 'xml'"),
        "unknown old-spelling format": (["--report-format", "json,docx"], "unknown report format(s) 'docx'"),
        "unknown requirement": (["--requirement", "AICO-XYZ-001"], "unknown requirement(s) 'AICO-XYZ-001'"),
        "unwritable output": (["--output", str(tmp_path / "a-file" / "reports")], "report directory"),
        "missing baseline": (["--baseline", str(tmp_path / "nope.json")], "--baseline: cannot read report"),
        "baseline not json": (["--baseline", str(tmp_path / "not-json.json")], "is not JSON"),
        "baseline not a report": (["--baseline", str(tmp_path / "not-a-report.json")], "is not an aico-secure"),
        "baseline invalid": (["--baseline", str(tmp_path / "invalid-report.json")], "is not a valid aico-secure"),
    }


@pytest.mark.parametrize("case", ["unknown format", "unknown old-spelling format", "unknown requirement",
                                  "unwritable output", "missing baseline", "baseline not json",
                                  "baseline not a report", "baseline invalid"])
def test_a_bad_option_is_one_line_and_exit_2_before_pytest_starts(tmp_path: Path, case: str) -> None:
    args, needle = _bad_options(tmp_path)[case]
    reports = tmp_path / "reports"
    proc = cli(tmp_path, "conform", "--target", TARGET, "--output", str(reports), *args, *ONE_TEST)
    assert proc.returncode == 2, (proc.returncode, proc.stderr, proc.stdout[-1000:])
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert needle in proc.stderr, proc.stderr
    assert not proc.stdout.strip(), "pytest started: " + proc.stdout[-500:]
    assert not reports.exists(), "the report directory was created before every option was checked"


# ---- what a run writes and prints ------------------------------------------------------------------------------
def test_quiet_prints_only_the_verdict_and_the_report_paths(
        passing_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, proc = passing_run
    lines = proc.stdout.strip().splitlines()
    assert VERDICT.match(lines[0]) and "PASS" in lines[0], proc.stdout
    written = [Path(line.removeprefix("report written: ")) for line in lines[1:]]
    assert all(line.startswith("report written: ") for line in lines[1:]) and len(written) == 2, proc.stdout
    assert ANSI not in proc.stdout + proc.stderr and not proc.stderr.strip(), proc.stderr


def test_formats_share_one_stem_and_an_alias_writes_once(
        passing_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    reports, _ = passing_run
    files = sorted(p.name for p in reports.iterdir() if not p.name.startswith("."))
    assert len(files) == 2 and {Path(f).suffix for f in files} == {".json", ".md"}, files
    assert len({f.split(".")[0] for f in files}) == 1, files


def test_the_old_spellings_still_work_and_a_given_seed_is_recorded(
        tmp_path: Path, passing_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    seed = json_report(passing_run[0])["provenance"]["hypothesis_seed"]
    assert seed is not None and seed.isdigit() and int(seed) < 2**32, "a run must record the seed it used"
    proc = cli(tmp_path, "conform", "--target", TARGET, "--report-dir", str(tmp_path / "old"), "--report-format",
               "json", "--requirement", "AICO-CON-001", "--pytest-args", f"--hypothesis-seed={seed}", "-k",
               "test_nothing_is_allowed_without_a_grant")
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr)
    assert [p.suffix for p in (tmp_path / "old").glob("conformance-*")] == [".json"]
    assert json_report(tmp_path / "old")["provenance"]["hypothesis_seed"] == seed
    assert ANSI not in proc.stdout + proc.stderr, "a run whose output is not a terminal printed control sequences"


def test_a_regression_against_the_baseline_fails_the_run_and_is_listed(
        tmp_path: Path, passing_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    [baseline] = passing_run[0].glob("*.json")
    (tmp_path / "no_consent_target.py").write_text(textwrap.dedent(NO_CONSENT))
    proc = cli(tmp_path, "conform", "--target", "no_consent_target:build", "--quiet", "--output",
               str(tmp_path / "reports"), "--format", "json", "--baseline", str(baseline), *ONE_TEST,
               env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 1, (proc.stdout[-2000:], proc.stderr)
    lines = proc.stdout.strip().splitlines()
    assert "regression against the baseline: AICO-CON-001 pass -> not implemented (worse outcome)" in lines, lines
    notes = json_report(tmp_path / "reports")["notes"]
    assert any(n.startswith("regression against the baseline: AICO-CON-001") for n in notes), notes


def test_default_formats_and_one_seed_in_every_xdist_worker(tmp_path: Path) -> None:
    (tmp_path / "seed_probe.py").write_text(textwrap.dedent(SEED_PROBE))
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    proc = cli(tmp_path, "conform", "--target", TARGET, "-n", "2", "--output", str(tmp_path / "reports"),
               "--requirement", "AICO-CON-001", "--pytest-args", "-p", "seed_probe", "-k",
               "test_nothing_is_allowed_without_a_grant",
               env={"PYTHONPATH": str(tmp_path), "SEED_PROBE_DIR": str(seeds)})
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr)
    suffixes = sorted("".join(p.suffixes) for p in (tmp_path / "reports").glob("conformance-*"))
    from aico_secure.report import formats

    assert suffixes == sorted(formats.get(n).suffix for n in limits.default_formats())
    assert limits.default_formats() == limits.DEFAULT_FORMATS, "a default format is missing from the registry"
    recorded = json_report(tmp_path / "reports")["provenance"]["hypothesis_seed"]
    forced = {p.name: p.read_text() for p in seeds.iterdir()}
    assert set(forced) == {"controller", "gw0", "gw1"}, forced
    assert set(forced.values()) == {recorded}, (forced, recorded)


# ---- small pieces ------------------------------------------------------------------------------------------------
def test_quiet_shows_the_tail_of_a_run_that_ended_without_a_verdict() -> None:
    output = "\n".join(f"line {i}" for i in range(50)) + "\nERROR: something broke\n"
    assert runner.quiet_lines(output, 4)[-1] == "ERROR: something broke"
    assert len(runner.quiet_lines(output, 4)) == 20
    shown = runner.quiet_lines("....\ntarget t (n), profile quick: PASS (pass: 1)\nreport written: r.json\n", 0)
    assert shown == ["target t (n), profile quick: PASS (pass: 1)", "report written: r.json"]


def test_the_progress_plugin_loads_only_when_asked() -> None:
    quiet = runner.pytest_command(runner.RunOptions(TARGET, quiet=True, progress=True))
    shown = runner.pytest_command(runner.RunOptions(TARGET, progress=True))
    plain = runner.pytest_command(runner.RunOptions(TARGET))
    assert "aico_secure.conform.progress" in shown
    assert "aico_secure.conform.progress" not in quiet + plain


def test_the_progress_bar_counts_tests_on_the_controller() -> None:
    from aico_secure.conform.progress import ProgressBar

    bar = ProgressBar()
    bar.progress.disable = True
    bar._set_total(3)

    class Report:
        def __init__(self, nodeid: str, when: str, failed: bool) -> None:
            self.nodeid, self.when, self.failed = nodeid, when, failed

    for nodeid, failed_in in (("a", None), ("b", "call"), ("c", "setup")):
        for when in ("setup", "call", "teardown"):
            bar.pytest_runtest_logreport(Report(nodeid, when, failed_in == when))  # type: ignore[arg-type]
    assert bar.task is not None
    task = bar.progress.tasks[0]
    assert (task.completed, task.fields["passed"], task.fields["failed"]) == (3, 1, 2)
    bar.pytest_sessionfinish()
