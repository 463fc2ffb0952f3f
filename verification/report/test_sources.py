"""Each command's real JSON output becomes model parts an auditor can trust: the right requirement, a fingerprint
that survives a re-run, incompleteness kept as incompleteness, and anything else refused in one line.

The inspect, scan and fuzz documents are produced by running the commands, as a pipeline would."""

from __future__ import annotations

import importlib.util
import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aico_secure.fuzz import campaign as fuzzing
from aico_secure.report import _source, document
from aico_secure.report.document import ReportError
from aico_secure.report.model import Report, SourceKind, Verdict


def _cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", *map(str, args)], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, cwd=cwd)


def _inspect(directory: Path, out: Path, *needles: str) -> Path:
    proc = _cli("inspect", directory, *needles, "--format", "json", "--output", out)
    assert proc.returncode in (0, 1, 2), proc.stderr
    assert out.is_file(), proc.stderr
    return out


@pytest.fixture
def canary() -> str:
    return f"cnry-{secrets.token_hex(6)}-diary"


def test_an_inspected_canary_is_an_at_rest_finding(tmp_path: Path, canary: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "notes.txt").write_text(f"some text {canary} more\n")
    report = _source.load(_inspect(data, tmp_path / "i.json", "--canary", canary))
    [finding] = report.findings
    assert finding.source is SourceKind.INSPECT
    assert finding.rule_id == "inspect/canary/canary"
    assert finding.requirement == "AICO-SEC-001"
    assert finding.severity == "high"
    assert (finding.path, finding.offset) == ("notes.txt", 10)
    assert finding.detail["encoding"] == "utf-8" and finding.detail["container"]
    [run] = report.sources
    assert run.complete and run.provenance.command == "inspect"
    assert run.provenance.arguments == (str(data),)
    assert "not recorded by inspect" in run.provenance.python  # never the merging machine's interpreter
    assert report.verdict is Verdict.FAIL
    document.validate(report.to_dict())


def test_the_same_leak_at_another_offset_is_the_same_finding(tmp_path: Path, canary: str) -> None:
    prints = []
    for prefix in ("", "a much longer prefix than before, "):
        data = tmp_path / f"data{len(prefix)}"
        data.mkdir()
        (data / "notes.txt").write_text(f"{prefix}{canary}\n")
        [finding] = _source.load(_inspect(data, tmp_path / f"i{len(prefix)}.json", "--canary", canary)).findings
        prints.append((finding.fingerprint, finding.offset))
    assert prints[0][0] == prints[1][0] and prints[0][1] != prints[1][1]


def test_a_key_found_is_a_key_storage_finding(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    data = tmp_path / "data"
    data.mkdir()
    (data / "blob.bin").write_bytes(b"header" + key + b"trailer")
    report = _source.load(_inspect(data, tmp_path / "i.json", "--key-hex", key.hex()))
    assert [f.requirement for f in report.findings] == ["AICO-KM-003"]
    assert report.findings[0].rule_id.endswith("/key")
    assert key.hex() not in json.dumps(report.to_dict())


def test_an_inspection_that_read_nothing_is_incomplete(tmp_path: Path, canary: str) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    report = _source.load(_inspect(empty, tmp_path / "i.json", "--canary", canary))
    [run] = report.sources
    assert not run.complete and "nothing was read" in run.problems
    assert report.verdict is Verdict.INCOMPLETE


def _scan(tree: Path, out: Path) -> Path:
    proc = _cli("scan", tree, "--only", "static", "--format", "json", "--output", out)
    assert proc.returncode in (0, 1, 2) and out.is_file(), proc.stderr
    return out


def test_a_scan_finding_keeps_its_rule_place_and_fingerprint(tmp_path: Path) -> None:
    tree = tmp_path / "src"
    tree.mkdir()
    (tree / "app.py").write_text("import hashlib\n\n\ndef h(x):\n    return hashlib.md5(x).hexdigest()\n")
    out = _scan(tree, tmp_path / "s.json")
    raw = json.loads(out.read_text())
    report = _source.load(out)
    assert [(f.rule_id, f.path, f.line, f.fingerprint, f.severity) for f in report.findings] == [
        (f["rule_id"], f["path"], f["line"], f["fingerprint"], f["severity"]) for f in raw["findings"]]
    assert report.findings and report.findings[0].source is SourceKind.SCAN
    assert report.sources[0].complete and report.sources[0].provenance.arguments == (str(tree),)
    assert "hashlib.md5(x)" not in json.dumps(report.to_dict())  # the source snippet is not carried
    document.validate(report.to_dict())


def test_a_scan_of_nothing_is_incomplete(tmp_path: Path) -> None:
    tree = tmp_path / "src"
    tree.mkdir()
    report = _source.load(_scan(tree, tmp_path / "s.json"))
    assert not report.sources[0].complete and report.sources[0].problems
    assert report.verdict is Verdict.INCOMPLETE


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")
def test_a_fuzz_campaign_that_ran_its_budget_is_complete(tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    proc = _cli("fuzz", "envelope", "--runs", "50", "--output", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    raw = json.loads(out.read_text())
    assert raw["finished_budget"] and raw["runs"] == 50 and raw["artifacts"] == []
    report = _source.load(out)
    [run] = report.sources
    assert run.complete and run.kind is SourceKind.FUZZ and run.provenance.arguments == ("envelope", "--runs=50")
    assert report.verdict is Verdict.PASS and not report.findings


def _fuzz_result(tmp_path: Path, *, exit_code: int, killed: bool = False,
                 artifacts: tuple[str, ...] = ()) -> Path:
    """A result document as ``fuzzing.run`` writes it, for outcomes a real harness cannot be made to produce on
    demand (a crash, a hang, a harness that does not start)."""
    files = []
    for name in artifacts:
        (tmp_path / name).write_bytes(b"input that broke the parser " + name.encode())
        files.append(tmp_path / name)
    doc = fuzzing.result_document(fuzzing.Campaign("envelope", runs=50), started_at="2026-01-01T00:00:00+00:00",
                                  elapsed=0.5, exit_code=exit_code, killed=killed, artifacts=files)
    out = tmp_path / "fuzz.json"
    fuzzing.write_result(out, doc)
    return out


def test_a_crash_input_is_a_fuzzing_finding(tmp_path: Path) -> None:
    report = _source.load(_fuzz_result(tmp_path, exit_code=1, artifacts=("crash-abc", "oom-def")))
    import hashlib

    assert {(f.rule_id, f.requirement, f.severity, f.fingerprint) for f in report.findings} == {
        ("fuzz/envelope/crash", "AICO-SEC-002", "high", hashlib.sha256((tmp_path / "crash-abc").read_bytes())
         .hexdigest()),
        ("fuzz/envelope/oom", "AICO-SEC-002", "high", hashlib.sha256((tmp_path / "oom-def").read_bytes())
         .hexdigest())}
    assert report.sources[0].complete  # it stopped at a finding, which is what a campaign is for
    assert report.verdict is Verdict.FAIL


def test_a_harness_that_did_not_run_its_budget_is_incomplete(tmp_path: Path) -> None:
    report = _source.load(_fuzz_result(tmp_path, exit_code=1))
    assert not report.sources[0].complete and "before its budget" in report.sources[0].problems[0]
    assert report.verdict is Verdict.INCOMPLETE


def test_a_killed_hang_is_a_finding_and_incomplete(tmp_path: Path) -> None:
    report = _source.load(_fuzz_result(tmp_path, exit_code=-9, killed=True))
    assert [f.rule_id for f in report.findings] == ["fuzz/envelope/timeout"]
    assert not report.sources[0].complete
    assert report.verdict is Verdict.FAIL


def test_a_conform_report_is_read_as_it_is(tmp_path: Path) -> None:
    from aico_secure.report import provenance
    from aico_secure.report.model import SourceRun

    prov = provenance.collect("conform", started_at=provenance.now(), with_suite=False)
    built = Report(provenance=prov, sources=[SourceRun(SourceKind.CONFORM, prov, True)])
    path = tmp_path / "r.json"
    path.write_text(document.dump(built))
    assert _source.load(path).to_dict() == built.to_dict()


def _inspection(tmp_path: Path) -> dict[str, Any]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "a.txt").write_text("nothing to see\n")
    loaded: dict[str, Any] = json.loads(_inspect(data, tmp_path / "clean.json", "--canary", "cnry-0123456789")
                                        .read_text())
    return loaded


@pytest.mark.parametrize("case", ["other-json", "a-list", "old-report", "newer-inspection", "inspection-gap",
                                  "scan-gap", "fuzz-gap", "not-json", "empty"])
def test_anything_else_is_refused_in_one_line(tmp_path: Path, case: str) -> None:
    path = tmp_path / "doc.json"
    text: str
    if case == "other-json":
        text = json.dumps({"name": "something else", "version": 1})
    elif case == "a-list":
        text = "[1, 2, 3]"
    elif case == "old-report":
        text = json.dumps({"report": "aico-secure-report", "report_version": 1, "requirements": []})
    elif case in ("newer-inspection", "inspection-gap"):
        doc = _inspection(tmp_path)
        if case == "newer-inspection":
            doc["schema"] = "aico-secure-inspection/2"
        else:
            del doc["totals"]
        text = json.dumps(doc)
    elif case == "scan-gap":
        text = json.dumps({"tool": {"name": "aico-secure scan", "version": "0"}, "root": "/x", "findings": []})
    elif case == "fuzz-gap":
        text = json.dumps({"schema": "aico-secure-fuzz/1", "harness": "envelope"})
    elif case == "not-json":
        text = '{"report": "aico-secure-report", "report_ver'
    else:
        text = ""
    path.write_text(text)
    with pytest.raises(ReportError) as caught:
        _source.load(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message, message
