"""``aico-secure report render``: every registered format renders a report through the CLI; a report that is
tampered, truncated or invalid is refused (exit 2) before anything is rendered from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aico_secure.conform.catalog import default_catalog
from aico_secure.conform.outcomes import Outcome, RequirementResult, TestResult
from aico_secure.report import document, formats, provenance
from aico_secure.report.model import Finding, Report, SourceKind, SourceRun, TargetInfo

REFERENCE = TargetInfo("aico_secure.reference:build", "aico-secure reference", "0.1.0", {"keys": True})


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "report", *map(str, args)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    """A report with a pass, a failure and a finding, so every format has each kind of row to render."""
    catalog = default_catalog()
    prov = provenance.collect("conform", started_at=provenance.now(), target=REFERENCE, profile="quick")
    verdicts = [RequirementResult(catalog.get(rid), outcome, [TestResult(f"t.py::{rid}", (rid,), outcome, 0.1)])  # type: ignore[arg-type]
                for rid, outcome in (("AICO-KM-001", Outcome.PASS), ("AICO-KM-002", Outcome.FAIL))]
    finding = Finding(SourceKind.SCAN, "B324", "AICO-KM-001", "high", "weak hash", "0" * 32, "app.py", 4)
    built = Report(prov, verdicts, [finding], [SourceRun(SourceKind.CONFORM, prov, True)])
    path = tmp_path / "report.json"
    path.write_text(document.dump(built))
    return path


@pytest.mark.parametrize("name", sorted(formats.FORMATS))
def test_every_registered_format_renders_to_stdout(report: Path, name: str) -> None:
    proc = _cli("render", report, "--format", name)
    assert proc.returncode == 0, proc.stderr
    assert "AICO-KM-002" in proc.stdout, proc.stdout[:500]


def test_json_renders_the_same_report(report: Path) -> None:
    proc = _cli("render", report, "--format", "json")
    assert json.loads(proc.stdout) == json.loads(report.read_text())


def test_several_formats_are_written_to_a_prefix(report: Path, tmp_path: Path) -> None:
    names = sorted(formats.FORMATS)
    args: list[str | Path] = ["render", report, "--output", tmp_path / "out" / "audit"]
    for name in names:
        args += ["--format", name]
    proc = _cli(*args)
    assert proc.returncode == 0, proc.stderr
    for name in names:
        written = tmp_path / "out" / f"audit{formats.get(name).suffix}"
        assert written.is_file() and written.stat().st_size > 0, (name, proc.stdout)


def test_one_format_with_output_writes_that_file(report: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    assert _cli("render", report, "--format", "markdown", "--output", out).returncode == 0
    assert "AICO-KM-002" in out.read_text()


def test_several_formats_without_output_are_refused(report: Path) -> None:
    proc = _cli("render", report, "--format", "json", "--format", "markdown")
    assert proc.returncode == 2 and "--output" in proc.stderr and not proc.stdout


def test_a_report_claiming_pass_over_a_failure_is_refused(report: Path) -> None:
    """A hand-edited verdict is schema-valid but does not follow from the requirements: never rendered."""
    doc = json.loads(report.read_text())
    doc["verdict"] = "pass"
    report.write_text(json.dumps(doc))
    proc = _cli("render", report, "--format", "json")
    assert proc.returncode == 2 and "inconsistent" in proc.stderr and not proc.stdout, proc.stderr


def _bad_outcome(text: str) -> str:
    return text.replace('"outcome": "fail"', '"outcome": "fine"', 1)


@pytest.mark.parametrize("tamper", [_bad_outcome, lambda t: t[: len(t) // 2], lambda t: "", lambda t: "[]",
                                    lambda t: t.replace('"report_version": 2', '"report_version": 3')],
                         ids=["invalid-outcome", "truncated", "empty", "not-a-report", "unknown-version"])
def test_an_invalid_report_is_refused_in_one_line(report: Path, tamper: object) -> None:
    report.write_text(tamper(report.read_text()))  # type: ignore[operator]
    proc = _cli("render", report, "--format", "markdown")
    assert proc.returncode == 2 and not proc.stdout, proc.stdout
    assert proc.stderr.count("\n") == 1 and str(report) in proc.stderr, proc.stderr


def test_an_unknown_format_is_refused(report: Path) -> None:
    proc = _cli("render", report, "--format", "pdf")
    assert proc.returncode == 2 and "unknown report format" in proc.stderr
