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
