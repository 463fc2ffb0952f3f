"""Every option of ``aico-secure conform`` and ``aico-secure fuzz`` is checked before anything runs (one line,
exit 2, fast), and an OS error while writing the report is one line and exit 2, never a traceback or exit 0."""

from __future__ import annotations

import math
import resource
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aico_secure.conform import limits
from aico_secure.fuzz import campaign as fuzzing

from .conftest import run_cli

TARGET = "aico_secure.reference:build"
ONE_TEST = ("--pytest-args", "--aico-requirements=AICO-CON-001", "-k", "test_nothing_is_allowed_without_a_grant")


def assert_one_line_exit_2(proc: object, needle: str) -> None:
    stderr = proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == 2, (proc.returncode, stderr, proc.stdout[-2000:])  # type: ignore[attr-defined]
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
    assert needle in stderr, stderr


@pytest.mark.parametrize("args, needle", [
    (["-n", "0"], "--workers must be between 1 and"),
    (["-n", "-3"], "--workers must be between 1 and"),
    (["-n", str(limits.MAX_WORKERS + 1)], "--workers must be between 1 and"),
    (["-n", "two"], "invalid int value"),
    (["--profile", "nightly"], "invalid choice"),
    (["--test-timeout", "0"], "--test-timeout must be more than 0"),
    (["--test-timeout", "-1"], "--test-timeout must be more than 0"),
    (["--test-timeout", "nan"], "--test-timeout must be more than 0"),
    (["--test-timeout", "inf"], "--test-timeout must be more than 0"),
    (["--load-timeout", "0"], "--load-timeout must be more than 0"),
    (["--load-timeout", "soon"], "--load-timeout must be a number"),
    (["--report-format", "xml"], "unknown report format"),
    (["--report-format", "json,"], "unknown report format"),
])
def test_a_bad_option_is_refused_before_anything_runs(tmp_path: Path, args: list[str], needle: str) -> None:
    started = time.monotonic()
    # ONE_TEST keeps a regression (an option that is not refused) to one test instead of the whole suite.
    proc = run_cli(tmp_path, "conform", "--target", TARGET, "--report-dir", str(tmp_path / "reports"), *args,
                   *ONE_TEST, timeout=60)
    assert_one_line_exit_2(proc, needle)
    assert time.monotonic() - started < 10, "option checks must not wait for a run"
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_a_regular_file_as_the_report_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "reports").write_text("not a folder")
    proc = run_cli(tmp_path, "conform", "--target", TARGET, "--report-dir", str(tmp_path / "reports"), *ONE_TEST,
                   timeout=60)
    assert_one_line_exit_2(proc, "is not a directory")
    proc = run_cli(tmp_path, "conform", "--target", TARGET, "--report-dir", str(tmp_path / "reports" / "sub"),
                   *ONE_TEST, timeout=60)
    assert_one_line_exit_2(proc, "cannot create report directory")


def test_an_unwritable_report_dir_is_refused_before_the_run(tmp_path: Path) -> None:
    """A file size limit of 0 stands in for a read-only or full disk (as root, permission bits do not)."""
    def no_writes() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    proc = run_cli(tmp_path, "conform", "--target", TARGET, "--report-dir", str(tmp_path / "reports"), *ONE_TEST,
                   preexec=no_writes, timeout=60)
    assert_one_line_exit_2(proc, "cannot write in report directory")
    assert "passed" not in proc.stdout and "AICO conformance verdict" not in proc.stdout


def test_an_os_error_writing_the_report_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """The directory passes its write test (1 byte), then the report hits the file size limit (EFBIG)."""
    def one_byte() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))

    out = tmp_path / "reports"
    proc = run_cli(tmp_path, "conform", "--target", TARGET, "--report-dir", str(out), *ONE_TEST,
                   preexec=one_byte, timeout=300)
    assert_one_line_exit_2(proc, "cannot write the conformance report")
    assert "INTERNALERROR" not in proc.stdout
    assert list(out.iterdir()) == [], "no truncated report may be left behind"


def test_an_unknown_report_format_given_to_pytest_stops_before_the_tests(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, "conform", "--target", TARGET, "--report-dir", str(tmp_path / "reports"),
                   "--pytest-args", "--aico-report-format=json,xml", "--aico-requirements=AICO-CON-001", timeout=120)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "unknown report format" in proc.stderr and "INTERNALERROR" not in proc.stdout + proc.stderr
    assert "AICO conformance verdict" not in proc.stdout, "no test may run with an option that will fail at the end"


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**6, max_value=10**6)))
def test_a_timeout_is_accepted_exactly_when_finite_positive_and_bounded(seconds: float) -> None:
    ok = math.isfinite(seconds) and 0 < seconds <= limits.MAX_TIMEOUT
    try:
        limits.check_timeout("--test-timeout", seconds)
    except limits.LimitError as exc:
        assert not ok and "\n" not in str(exc)
    else:
        assert ok


@given(st.integers(min_value=-10**9, max_value=10**9))
def test_workers_are_accepted_exactly_between_1_and_the_cap(workers: int) -> None:
    ok = 1 <= workers <= limits.MAX_WORKERS
    try:
        limits.check_workers(workers)
    except limits.LimitError:
        assert not ok
    else:
        assert ok


# ---- fuzz: every campaign ends -----------------------------------------------------------------------------
@pytest.mark.parametrize("args, needle", [
    (["--runs", "-1"], "--runs must be at least 1"),
    (["--runs", "0"], "--runs must be at least 1"),
    (["--max-time", "0"], "--max-time must be at least 1"),
    (["--max-time", "-5"], "--max-time must be at least 1"),
    (["--runs", "many"], "--runs must be a whole number"),
    (["--runs", str(2**32 + 5)], "--runs must be at most"),  # would wrap to a negative C int: "forever"
    (["--max-time", "9" * 5000], "--max-time must be a whole number"),
])
def test_fuzz_bounds_that_never_stop_are_refused(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = run_cli(tmp_path, "fuzz", "envelope", *args, timeout=30)  # its own process group: killed on timeout
    assert_one_line_exit_2(proc, needle)


@pytest.mark.parametrize("runs, max_time", [(-1, None), (0, None), (None, 0), (None, -1), (5, 0), (True, None),
                                            (2**31, None), (None, 2**40)])
def test_a_campaign_that_would_never_stop_is_a_fuzz_error(runs: int | None, max_time: int | None) -> None:
    with pytest.raises(fuzzing.FuzzError):
        fuzzing.bounds(fuzzing.Campaign("envelope", runs=runs, max_time=max_time))


def test_a_campaign_given_no_bound_gets_the_default_time_bound() -> None:
    assert fuzzing.bounds(fuzzing.Campaign("envelope")) == (None, fuzzing.DEFAULT_MAX_TIME)
    assert fuzzing.bounds(fuzzing.Campaign("envelope", runs=10)) == (10, None)
