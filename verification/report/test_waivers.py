"""Waivers: a malformed or unacceptable waiver file stops ``conform`` before anything runs (one line, exit 2,
no report directory), and a valid one is applied honestly: "waived" only while unexpired and only over a
real non-ok outcome that stays on record; expired waivers are flagged and not honoured; ``run: false``
deselects the requirement's tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from aico_secure.conform.catalog import default_catalog
from aico_secure.conform.outcomes import Outcome, RequirementResult, TestResult
from aico_secure.report import waivers
from aico_secure.report.model import Waiver

TARGET = "aico_secure.reference:build"
ONE_TEST = ("--requirement", "AICO-CON-001", "--pytest-args", "-k", "test_nothing_is_allowed_without_a_grant")
TODAY = date(2026, 6, 1)
# A build with no consent capability: the consent tests report "not implemented" (not ok), a waivable outcome.
NO_CONSENT = """
    from dataclasses import replace

    from aico_secure.reference import build as reference


    def build():
        return replace(reference(), name="no consent", consent=None)
"""


def cli(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def waiver_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def entry(requirement: str = "AICO-BUS-009", expires: str = "2099-03-31", run: bool | None = None) -> str:
    lines = [f"  - requirement: {requirement}", '    justification: "audit counter lands in 0.3"',
             '    approver: "J. Doe (security lead)"', f"    expires: {expires}"]
    if run is not None:
        lines.append(f"    run: {'true' if run else 'false'}")
    return "\n".join(lines) + "\n"


def latest_report(folder: Path) -> dict[str, object]:
    found = sorted(folder.glob("conformance-*.json"))
    assert found, list(folder.iterdir())
    loaded: dict[str, object] = json.loads(found[-1].read_text())
    return loaded


# ---- applying (unit) -----------------------------------------------------------------------------------------
def verdict(rid: str, outcome: Outcome, tests: int = 1) -> RequirementResult:
    requirement = default_catalog().get(rid)
    assert requirement is not None
    return RequirementResult(requirement, outcome, [TestResult(f"t{i}", (rid,), outcome) for i in range(tests)])


def waiver(rid: str, expires: str = "2026-06-01", run: bool = True) -> Waiver:
    return Waiver(rid, "why", "who", expires, run)


def test_an_unexpired_waiver_over_a_failure_is_applied_and_keeps_the_real_outcome() -> None:
    applied = waivers.apply([verdict("AICO-BUS-009", Outcome.FAIL)], [waiver("AICO-BUS-009")], TODAY)
    assert applied.verdicts[0].outcome is Outcome.WAIVED and len(applied.verdicts[0].tests) == 1
    record = applied.records[0]
    assert record.status == "applied" and record.underlying is Outcome.FAIL and not applied.notes


def test_a_waiver_over_a_pass_is_unused() -> None:
    applied = waivers.apply([verdict("AICO-BUS-009", Outcome.PASS)], [waiver("AICO-BUS-009")], TODAY)
    assert applied.verdicts[0].outcome is Outcome.PASS and applied.records[0].status == "unused"


def test_an_expired_waiver_is_not_honoured_and_is_flagged() -> None:
    applied = waivers.apply([verdict("AICO-BUS-009", Outcome.ERROR)], [waiver("AICO-BUS-009", "2026-05-31")], TODAY)
    assert applied.verdicts[0].outcome is Outcome.ERROR
    assert applied.records[0].status == "expired" and applied.records[0].underlying is Outcome.ERROR
    assert len(applied.notes) == 1 and "AICO-BUS-009" in applied.notes[0] and "expired" in applied.notes[0]


def test_a_run_false_waiver_over_an_untested_requirement_is_waived_over_not_run() -> None:
    given = [waiver("AICO-BUS-009", run=False)]
    assert waivers.not_run(given, TODAY) == {"AICO-BUS-009"}
    assert waivers.not_run([waiver("AICO-BUS-009", "2026-05-31", run=False)], TODAY) == set()
    applied = waivers.apply([verdict("AICO-BUS-009", Outcome.NOT_TESTED, tests=0)], given, TODAY)
    assert applied.verdicts[0].outcome is Outcome.WAIVED and applied.records[0].underlying is Outcome.NOT_RUN


def test_a_waiver_on_a_requirement_outside_the_run_is_unused() -> None:
    applied = waivers.apply([], [waiver("AICO-BUS-009")], TODAY)
    assert [r.status for r in applied.records] == ["unused"] and applied.records[0].underlying is None


def test_yaml_dates_stay_strings_and_aliases_are_refused() -> None:
    parsed = waivers.parse("waivers:\n" + entry(expires="2027-03-31"))
    assert parsed == [Waiver("AICO-BUS-009", "audit counter lands in 0.3", "J. Doe (security lead)", "2027-03-31")]
    with pytest.raises(waivers.WaiverError, match="aliases are not allowed"):
        waivers.parse("x: &a [1]\nwaivers: *a\n")


# ---- refusing (the real command line, before pytest starts) ----------------------------------------------------
MALFORMED = [
    ("not yaml", "waivers: [unclosed\n", "is not valid YAML"),
    ("not a mapping", "- just a list\n", "is invalid at top level"),
    ("wrong type", "waivers:\n" + entry().replace("expires: 2099-03-31", "expires: 2099-03-31\n    run: maybe"),
     "is invalid at waivers/0/run"),
    ("unknown key", "waivers:\n" + entry() + "    owner: me\n", "Additional properties are not allowed"),
    ("missing key", "waivers:\n  - requirement: AICO-BUS-009\n    expires: 2099-01-01\n", "is a required property"),
    ("bad id", "waivers:\n" + entry(requirement="BUS-9"), "is invalid at waivers/0/requirement"),
    ("bad date", "waivers:\n" + entry(expires="2027-02-30"), "is invalid at waivers/0/expires"),
    ("unknown requirement", "waivers:\n" + entry(requirement="AICO-BUS-999"), "AICO-BUS-999, which is not in"),
    ("duplicate", "waivers:\n" + entry() + entry(expires="2098-01-01"), "waives AICO-BUS-009 more than once"),
    ("too big", "waivers: []\n" + "#" * (waivers.MAX_WAIVER_BYTES + 10) + "\n", "larger than 256 KiB"),
    ("not utf-8", None, "is not UTF-8"),
]


@pytest.mark.parametrize("text, needle", [(t, n) for _, t, n in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_malformed_waiver_file_is_refused_before_anything_runs(tmp_path: Path, text: str | None,
                                                                  needle: str) -> None:
    path = tmp_path / "waivers.yaml"
    if text is None:
        path.write_bytes(b"waivers:\n  - requirement: \xff\xfe\n")
    else:
        path.write_text(text)
    assert_refused(tmp_path, ["--waivers", str(path)], needle)


def test_the_release_profile_refuses_a_waiver_on_a_critical_requirement(tmp_path: Path) -> None:
    critical = next(r.id for r in default_catalog().requirements if r.severity == "critical")
    path = waiver_file(tmp_path, "waivers:\n" + entry(requirement=critical))
    assert_refused(tmp_path, ["--waivers", str(path), "--profile", "release"], f"waives {critical}, a critical")


def test_a_missing_waiver_file_is_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path, ["--waivers", str(tmp_path / "nope.yaml")], "cannot read waiver file")


def assert_refused(tmp_path: Path, args: list[str], needle: str) -> None:
    reports = tmp_path / "reports"
    proc = cli(tmp_path, "conform", "--target", TARGET, "--output", str(reports), *args, *ONE_TEST)
    assert proc.returncode == 2, (proc.returncode, proc.stderr, proc.stdout[-1000:])
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert needle in proc.stderr, proc.stderr
    assert not proc.stdout.strip(), "pytest started: " + proc.stdout[-500:]
    assert not reports.exists(), "the report directory was created before the waivers were checked"


def test_the_pytest_plugin_checks_waivers_too(tmp_path: Path) -> None:
    path = waiver_file(tmp_path, "waivers:\n" + entry(requirement="AICO-BUS-999"))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--aico-target={TARGET}",
                           f"--aico-waivers={path}", "--aico-requirements=AICO-CON-001", "--co", "-q"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 4, (proc.stdout[-1000:], proc.stderr)
    assert "AICO-BUS-999, which is not in" in proc.stderr


# ---- applying (end to end) --------------------------------------------------------------------------------------
def test_unused_expired_and_run_false_waivers_in_a_real_run(tmp_path: Path) -> None:
    path = waiver_file(tmp_path, "waivers:\n" + entry(requirement="AICO-CON-001")
                       + entry(requirement="AICO-BUS-009", expires="2020-01-01")
                       + entry(requirement="AICO-CON-002", run=False))
    reports = tmp_path / "reports"
    proc = cli(tmp_path, "conform", "--target", TARGET, "--output", str(reports), "--format", "json",
               "--waivers", str(path), "--requirement", "AICO-CON-001", "--requirement", "AICO-CON-002",
               "--pytest-args", "-k", "test_nothing_is_allowed_without_a_grant or con_002 or CON_002")
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr)
    data = latest_report(reports)
    outcomes = {r["id"]: (r["outcome"], len(r["tests"])) for r in data["requirements"]}  # type: ignore[attr-defined]
    assert outcomes == {"AICO-CON-001": ("pass", 1), "AICO-CON-002": ("waived", 0)}, outcomes
    records = {w["waiver"]["requirement"]: (w["status"], w["underlying"]) for w in data["waivers"]}  # type: ignore[attr-defined]
    assert records == {"AICO-CON-001": ("unused", "pass"), "AICO-BUS-009": ("expired", None),
                       "AICO-CON-002": ("applied", "not run")}, records
    assert any("AICO-BUS-009" in n and "expired" in n for n in data["notes"])  # type: ignore[attr-defined]
    assert "1 passed" in proc.stdout, "only the AICO-CON-001 test runs: AICO-CON-002 is waived with run: false"


def test_run_false_deselects_the_requirements_tests(tmp_path: Path) -> None:
    path = waiver_file(tmp_path, "waivers:\n" + entry(requirement="AICO-CON-001", run=False))
    proc = cli(tmp_path, "conform", "--target", TARGET, "--no-report", "--waivers", str(path), "--pytest-args",
               "--aico-requirements=AICO-CON-001,AICO-CON-002", "-k", "test_nothing_is_allowed_without_a_grant")
    # The one selected test is bound to AICO-CON-001 only: waived with run: false, nothing runs at all.
    assert "passed" not in proc.stdout and "0 selected" in proc.stdout, proc.stdout[-1500:]
    assert proc.returncode == 1, "a run that ran nothing must not pass"


def test_an_applied_waiver_turns_a_not_implemented_requirement_into_waived(tmp_path: Path) -> None:
    (tmp_path / "no_consent_target.py").write_text(textwrap.dedent(NO_CONSENT))
    path = waiver_file(tmp_path, "waivers:\n" + entry(requirement="AICO-CON-001"))
    reports = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "conform", "--target",
                           "no_consent_target:build", "--output", str(reports), "--format", "json", "--waivers",
                           str(path), *ONE_TEST], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**_env(), "PYTHONPATH": str(tmp_path)}, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr)
    data = latest_report(reports)
    [requirement] = data["requirements"]  # type: ignore[misc]
    assert requirement["outcome"] == "waived" and requirement["tests"][0]["outcome"] == "not implemented"
    assert requirement["waiver"]["status"] == "applied"
    assert requirement["waiver"]["underlying"] == "not implemented"


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_a_fifo_in_place_of_the_waiver_file_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    os.mkfifo(path)
    assert_refused(tmp_path, ["--waivers", str(path)], "not a regular file")
