"""The three output formats: JSON valid against the shipped schema, SARIF 2.1.0, text; none shows key bytes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from sarif_pydantic import Sarif

from aico_secure.inspector import formats, inspect_tree
from aico_secure.inspector._format.json import inspection_schema
from aico_secure.inspector.needles import Needles
from aico_secure.inspector.report import InspectionReport, Searched


@pytest.fixture
def report(tmp_path: Path, canary: str, key: bytes) -> InspectionReport:
    (tmp_path / "app.log").write_text(f"saved {canary}\nkey={key.hex()}\n")
    (tmp_path / "clean.bin").write_bytes(os.urandom(1000))
    needles = Needles.build([canary], [[0.5, -0.25, 0.75, 0.125]], [("master", key)])
    result = inspect_tree(tmp_path, canaries=needles.canaries, vectors=needles.vectors, keys=needles.keys)
    return InspectionReport(result, Searched.of(needles))


def test_json_matches_the_documented_schema(report: InspectionReport) -> None:
    data = json.loads(formats.get("json").render(report))
    jsonschema.validate(data, inspection_schema())
    assert data["verdict"] == "findings" and data["totals"]["files_read"] == 2
    kinds = {f["kind"] for f in data["findings"]}
    assert kinds == {"canary", "key"} and all(f["file"] == "app.log" for f in data["findings"])
    assert data["searched"]["keys"] == ["master"]


def test_schema_rejects_a_report_missing_its_totals(report: InspectionReport) -> None:
    data = report.to_dict()
    del data["totals"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, inspection_schema())


def test_sarif_is_a_valid_2_1_0_log(report: InspectionReport) -> None:
    text = formats.get("sarif").render(report)
    log = Sarif.model_validate_json(text)
    assert log.version == "2.1.0" and len(log.runs) == 1
    run = log.runs[0]
    assert run.tool.driver.name and run.results
    rule_ids = [r.id for r in run.tool.driver.rules or []]
    raw = json.loads(text)
    for result in raw["runs"][0]["results"]:  # the properties SARIF requires of a located result
        assert result["ruleId"] in rule_ids and rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning") and result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "app.log" and location["region"]["byteOffset"] >= 0
    assert raw["runs"][0]["originalUriBaseIds"]["ROOT"]["uri"].startswith("file://")


def test_text_starts_with_the_verdict(report: InspectionReport) -> None:
    text = formats.get("text").render(report)
    assert text.splitlines()[0].endswith("FINDINGS") and "key:master" in text


@pytest.mark.parametrize("name", formats.NAMES)
def test_no_format_shows_key_bytes(report: InspectionReport, key: bytes, name: str) -> None:
    text = formats.get(name).render(report)
    assert key.hex() not in text and key.hex().upper() not in text


def test_unknown_format_is_a_typed_error() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        formats.get("xml")


# ---- the command line: several formats in one run (as ``aico-secure scan`` does) ----------------------------------
def _data(tmp_path: Path, canary: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "app.log").write_text(f"saved {canary}\n")
    return data


def test_several_formats_go_to_one_directory_one_file_each(tmp_path: Path, canary: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from aico_secure.cli.main import main

    out = tmp_path / "out"
    code = main(["inspect", str(_data(tmp_path, canary)), "--canary", canary, "--format", "json", "--format",
                 "sarif", "--format", "text", "--output", str(out)])
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["inspect.json", "inspect.sarif", "inspect.txt"]  # no temp files
    jsonschema.validate(json.loads((out / "inspect.json").read_text()), inspection_schema())
    Sarif.model_validate_json((out / "inspect.sarif").read_text())
    assert (out / "inspect.txt").read_text().splitlines()[0].endswith("FINDINGS")
    err = capsys.readouterr().err
    assert all(str(out / name) in err for name in ("inspect.json", "inspect.sarif", "inspect.txt")), err


def test_one_format_twice_is_one_file(tmp_path: Path, canary: str) -> None:
    from aico_secure.cli.main import main

    out = tmp_path / "report.json"
    assert main(["inspect", str(_data(tmp_path, canary)), "--canary", canary, "--format", "json", "--format",
                 "json", "--output", str(out)]) == 1
    assert json.loads(out.read_text())["verdict"] == "findings"


@pytest.mark.parametrize("where, needle", [
    (None, "several formats need --output DIR"),
    ("data/reports", "must be outside the inspected directory"),
    ("a-file", "is not a directory"),
])
def test_several_formats_need_a_directory_outside_the_data(tmp_path: Path, canary: str, where: str | None,
                                                           needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    from aico_secure.cli.main import main

    data = _data(tmp_path, canary)
    (tmp_path / "a-file").write_text("x")
    output = [] if where is None else ["--output", str(tmp_path / where)]
    assert main(["inspect", str(data), "--canary", canary, "--format", "json", "--format", "text", *output]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err, err
    assert not (data / "reports").exists()
