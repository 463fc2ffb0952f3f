"""Every report format renders every shape of report (conform only, merged with findings, findings only, nothing
checked) honestly, escapes hostile text for its own syntax, and is valid for the consumers that read it: the
Jenkins xUnit JUnit schema, the official SARIF 2.1.0 schema, a Markdown table parser's column count, a browser's
HTML parser. Reports are built from the real model and catalog, never from hand-written JSON."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

from aico_secure.conform.catalog import default_catalog
from aico_secure.conform.outcomes import Outcome, RequirementResult, TestResult
from aico_secure.report import document, formats, provenance
from aico_secure.report.model import (
    Finding,
    Provenance,
    Report,
    SourceKind,
    SourceRun,
    TargetInfo,
    Verdict,
    Waiver,
    WaiverRecord,
)

HERE = Path(__file__).parent
SARIF = jsonschema.Draft202012Validator(
    json.loads((HERE.parent / "scan" / "schemas" / "sarif-2.1.0.json").read_text()))
JUNIT_XSD = xmlschema.XMLSchema(str(HERE / "schemas" / "junit-10.xsd"))
HOSTILE = "<script>alert(1)</script> | `tick` **bold** [x](http://evil.example/) \n second line & &lt;"
OUTCOMES = (Outcome.PASS, Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.NOT_IMPLEMENTED, Outcome.NOT_RUN,
            Outcome.NOT_TESTED, Outcome.WAIVED, Outcome.FAIL)


@cache
def _provenance(command: str = "conform") -> Provenance:
    """Read once per command: reading every library's version is the slow part of building a report."""
    started = provenance.now()
    return provenance.collect(command, started_at=started, finished_at=started, profile="quick",
                              target=TargetInfo("aico_secure.reference:build", "aico-secure reference", "0.1.0",
                                                {"keys": True, "bus": False}),
                              hypothesis_seed="1234", with_suite=command == "conform")


def _verdicts() -> list[RequirementResult]:
    """One requirement per outcome, over real catalog requirements; the last FAIL is the one whose waiver
    expired. A hostile test name and message sit on the failing requirement."""
    requirements = default_catalog().requirements
    verdicts = []
    for i, outcome in enumerate(OUTCOMES):
        r = requirements[i]
        if outcome is Outcome.NOT_TESTED:
            tests: list[TestResult] = []
        else:
            test_outcome = Outcome.FAIL if outcome is Outcome.WAIVED else outcome
            message = HOSTILE if i == 2 else ("" if outcome is Outcome.PASS else f"{outcome.value} because")
            name = f"keys/test_x.py::test_{i}[{HOSTILE}]" if i == 2 else f"keys/test_x.py::test_{i}"
            tests = [TestResult(name, (r.id,), test_outcome, 0.25 * (i + 1), message,
                                {"files scanned": str(i)}),
                     TestResult(f"keys/test_y.py::test_{i}", (r.id,), Outcome.PASS, 0.01)]
        verdicts.append(RequirementResult(r, outcome, tests))
    return verdicts


def _waivers(verdicts: list[RequirementResult]) -> list[WaiverRecord]:
    return [WaiverRecord(Waiver(verdicts[7].requirement.id, f"vendor fix pending {HOSTILE}", "Jane Auditor",
                                "2099-12-31"), "applied", Outcome.FAIL),
            WaiverRecord(Waiver(verdicts[8].requirement.id, "old exception", "Bob", "2020-01-01"), "expired", None)]


def _findings(verdicts: list[RequirementResult]) -> list[Finding]:
    unjudged = default_catalog().requirements[len(OUTCOMES)].id
    return [
        Finding(SourceKind.SCAN, "AICO-B101", verdicts[0].requirement.id, "high", HOSTILE, "fp-scan-1",
                path="src/app/keys.py", line=12, detail={"cwe": "798"}),
        Finding(SourceKind.INSPECT, "AICO-INSPECT-CANARY", unjudged, "critical", "canary found as base64",
                "fp-inspect-1", path="data/store.db", offset=4096),
        Finding(SourceKind.FUZZ, "fuzz-crash", None, "medium", "crash in parser", "fp-fuzz-1"),
    ]


def merged_report() -> Report:
    """A merged report: conform with every outcome and two waivers, plus scan, inspect (incomplete) and fuzz."""
    verdicts = _verdicts()
    p = _provenance()
    sources = [SourceRun(SourceKind.CONFORM, p, True, (), {"tests": 16, "requirements": len(verdicts)}),
               SourceRun(SourceKind.SCAN, _provenance("scan"), True, (), {"files": 3}),
               SourceRun(SourceKind.INSPECT, _provenance("inspect"), False, (f"unreadable: x.db {HOSTILE}",)),
               SourceRun(SourceKind.FUZZ, _provenance("fuzz"), True)]
    return Report(replace(p, command="merge"), verdicts, _findings(verdicts), sources, _waivers(verdicts),
                  [f"note with {HOSTILE}"])


def passing_report() -> Report:
    p = _provenance()
    verdicts = [RequirementResult(r, Outcome.PASS, [TestResult(f"keys/test_p.py::test_{r.id}", (r.id,),
                                                               Outcome.PASS, 0.1)])
                for r in default_catalog().requirements[:4]]
    return Report(p, verdicts, [], [SourceRun(SourceKind.CONFORM, p, True)])


def findings_only_report() -> Report:
    verdicts = _verdicts()
    p = _provenance("scan")
    return Report(p, [], _findings(verdicts), [SourceRun(SourceKind.SCAN, p, True)])


def empty_report() -> Report:
    return Report(_provenance("merge"))


REPORTS = {"merged": merged_report, "passing": passing_report, "findings-only": findings_only_report,
           "empty": empty_report}


# ---- registry -------------------------------------------------------------------------------------------------
def test_registry_names_every_format_and_the_md_alias() -> None:
    assert set(formats.NAMES) == {"json", "markdown", "md", "html", "junit", "sarif"}
    assert formats.get("md").name == "markdown"
    for name in formats.NAMES:
        assert formats.get(name).suffix.startswith(".")


def test_unknown_format_is_one_line_naming_the_choices() -> None:
    with pytest.raises(ValueError) as caught:
        formats.get("pdf")
    message = str(caught.value)
    assert "\n" not in message and "'pdf'" in message
    assert all(name in message for name in formats.NAMES)


@pytest.mark.parametrize("shape", REPORTS)
@pytest.mark.parametrize("name", [n for n in formats.NAMES if n != "md"])
def test_every_format_renders_every_shape_of_report(name: str, shape: str) -> None:
    out = formats.get(name).render(REPORTS[shape]())
    assert out.strip() and out.endswith("\n")


def test_only_a_report_that_checked_something_and_found_nothing_passes() -> None:
    assert passing_report().verdict is Verdict.PASS
    assert merged_report().verdict is Verdict.FAIL
    assert findings_only_report().verdict is Verdict.FAIL
    assert empty_report().verdict is not Verdict.PASS


# ---- markdown -------------------------------------------------------------------------------------------------
def _md_cells(row: str) -> list[str]:
    """Split a GFM table row on unescaped pipes, as GitHub does."""
    return re.split(r"(?<!\\)\|", row.strip())[1:-1]


def test_markdown_starts_with_the_verdict_and_has_every_section() -> None:
    md = formats.get("markdown").render(merged_report())
    lines = md.splitlines()
    assert lines[0] == "# AICO security report"
    assert lines[2] == "**Verdict: FAIL**"
    for heading in ("## Provenance", "### Library versions", "## Sources", "## Summary per area",
                    "## Traceability matrix", "## Findings", "## Waivers", "## Notes", "## Sign-off"):
        assert heading in lines, heading
    p = merged_report().provenance
    for value in (p.catalog_digest, p.suite_digest, p.openssl, "1234"):
        assert value and value in md


def test_markdown_tables_keep_their_columns_whatever_the_messages_hold() -> None:
    md = formats.get("markdown").render(merged_report())
    tables = 0
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---"):
            tables += 1
            width = len(_md_cells(lines[i - 1]))
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert len(_md_cells(lines[j])) == width, lines[j]
                j += 1
    assert tables >= 7
    assert "<script>" not in md and "\\<script\\>" in md
    assert "`" not in md.replace("\\`", "")  # every backtick escaped: no code span can open
    assert re.search(r"(?<!\\)\]\(http", md) is None  # no inline link was made from a message


def test_markdown_traces_requirements_to_tests_findings_and_waivers() -> None:
    report = merged_report()
    md = formats.get("markdown").render(report)
    matrix = md.split("## Traceability matrix")[1].split("## Findings")[0]
    rows = [line for line in matrix.splitlines() if line.startswith("| AICO-")]
    assert len(rows) == len(report.trace()) == len(OUTCOMES) + 1  # + the requirement only a finding names
    by_id = {_md_cells(r)[0].strip().replace("\\", ""): _md_cells(r) for r in rows}
    failing = by_id[report.verdicts[2].requirement.id]
    assert "**fail**" in failing[7] and "(0.75 s)" in failing[8]
    waived = by_id[report.verdicts[7].requirement.id]
    assert "applied over 'fail'" in waived[10] and "Jane Auditor" in waived[10]
    assert "EXPIRED, NOT honoured" in by_id[report.verdicts[8].requirement.id][10]
    assert "AICO\\-B101" in by_id[report.verdicts[0].requirement.id][9] or \
        "AICO-B101" in by_id[report.verdicts[0].requirement.id][9]
    waivers = md.split("## Waivers")[1].split("## Evidence")[0]
    assert "**EXPIRED: NOT honoured**" in waivers


def test_markdown_of_an_empty_report_does_not_pass() -> None:
    md = formats.get("markdown").render(empty_report())
    assert "**Verdict: PASS**" not in md
    assert "nothing was checked" in md


# ---- html -----------------------------------------------------------------------------------------------------
class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.text: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False

    def handle_data(self, data: str) -> None:
        if not self.in_script:
            self.text.append(data)


def test_html_is_self_contained_with_a_strict_csp() -> None:
    page = formats.get("html").render(merged_report())
    assert re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I) is None
    assert re.search(r"@import|url\(", page, re.I) is None
    assert ('<meta http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;; style-src '
            "&#x27;unsafe-inline&#x27;; script-src &#x27;unsafe-inline&#x27;; img-src data:\">") in page
    assert "<link" not in page and page.count("<script") == 1 and page.count("<style") == 1


def test_html_shows_hostile_text_as_text_never_as_markup() -> None:
    page = formats.get("html").render(merged_report())
    collector = _Collector()
    collector.feed(page)
    assert collector.tags["script"] == 1  # ours only
    assert collector.tags["a"] == 0
    text = "".join(collector.text)
    assert "<script>alert(1)</script>" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_has_every_section_and_one_matrix_row_per_trace_row() -> None:
    report = merged_report()
    page = formats.get("html").render(report)
    for section in ("summary", "areas", "filters", "matrix", "findings", "provenance", "sources", "waivers",
                    "notes"):
        assert f'id="{section}"' in page, section
    for control in ("f-outcome", "f-area", "f-severity", "f-text"):
        assert f'id="{control}"' in page
    matrix = page.split('id="matrix-table"')[1].split("</table>")[0]
    assert matrix.count("<tr data-outcome=") == len(report.trace())
    assert "Verdict: FAIL" in page and "EXPIRED: NOT honoured" in page


# ---- junit ----------------------------------------------------------------------------------------------------
def _junit(report: Report) -> ET.Element:
    text = formats.get("junit").render(report)
    JUNIT_XSD.validate(text)
    return ET.fromstring(text)


@pytest.mark.parametrize("shape", REPORTS)
def test_junit_is_valid_against_the_jenkins_xunit_schema(shape: str) -> None:
    root = _junit(REPORTS[shape]())
    cases = root.findall("./testsuite/testcase")
    assert int(root.get("tests", "-1")) == len(cases)
    assert int(root.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
    assert int(root.get("errors", "-1")) == sum(1 for c in cases if c.find("error") is not None)


def test_junit_has_one_case_per_requirement_with_the_right_element() -> None:
    report = merged_report()
    root = _junit(report)
    suite = root.find("./testsuite[@name='requirements']")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(report.verdicts) == int(suite.get("tests", "0"))
    expected = {Outcome.PASS: None, Outcome.FAIL: "failure", Outcome.NOT_IMPLEMENTED: "failure",
                Outcome.ERROR: "error", Outcome.NOT_RUN: "error", Outcome.NOT_TESTED: "error",
                Outcome.WAIVED: "skipped"}
    for case, verdict in zip(cases, report.verdicts, strict=True):
        r = verdict.requirement
        assert case.get("classname") == r.area
        assert case.get("name") == f"{r.id}: {r.title}"
        children = [c.tag for c in case]
        assert children == ([expected[verdict.outcome]] if expected[verdict.outcome] else [])
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("3", "3", "1")
    skipped = cases[7].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == f"waived: vendor fix pending {HOSTILE} (Jane Auditor, until 2099-12-31)"
    failure = cases[2].find("failure")
    assert failure is not None and HOSTILE in (failure.text or "")  # survives XML escaping intact
    expired = cases[8].find("failure")
    assert expired is not None and "waiver NOT honoured" in (expired.text or "")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["catalog digest"] == report.provenance.catalog_digest
    assert props["library cryptography"] == report.provenance.libraries["cryptography"]


def test_junit_lists_findings_as_a_failing_suite() -> None:
    report = merged_report()
    suite = _junit(report).find("./testsuite[@name='findings']")
    assert suite is not None
    assert len(suite.findall("testcase")) == len(report.findings) == int(suite.get("failures", "0"))
    assert suite.find("testcase[@file='src/app/keys.py'][@line='12']") is not None


@pytest.mark.parametrize("shape", ["empty", "findings-only", "merged"])
def test_junit_of_a_report_that_is_not_a_pass_is_never_green(shape: str) -> None:
    root = _junit(REPORTS[shape]())
    assert int(root.get("failures", "0")) + int(root.get("errors", "0")) > 0
    verdict = root.find("./testsuite[@name='report']/testcase[@name='verdict']/failure")
    assert verdict is not None


def test_junit_of_a_passing_report_has_no_failure() -> None:
    root = _junit(passing_report())
    assert (root.get("failures"), root.get("errors")) == ("0", "0")
    assert root.find("./testsuite[@name='findings']") is None


def test_junit_replaces_characters_xml_cannot_carry() -> None:
    report = passing_report()
    requirement = report.verdicts[0].requirement
    report.verdicts[0] = RequirementResult(requirement, Outcome.FAIL, [
        TestResult("keys/test_p.py::test_control", (requirement.id,), Outcome.FAIL, 0.1, "bell\x07 nul\x00")])
    failure = _junit(report).find(".//testcase/failure")
    assert failure is not None and "bell\N{REPLACEMENT CHARACTER} nul\N{REPLACEMENT CHARACTER}" in (failure.text or "")


# ---- sarif ----------------------------------------------------------------------------------------------------
def _sarif(report: Report) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(formats.get("sarif").render(report))
    SARIF.validate(log)
    return log


@pytest.mark.parametrize("shape", REPORTS)
def test_sarif_is_valid_against_the_official_schema(shape: str) -> None:
    assert _sarif(REPORTS[shape]())["version"] == "2.1.0"


def test_sarif_has_the_catalog_as_rules_and_a_result_per_unmet_requirement_and_finding() -> None:
    report = merged_report()
    run = _sarif(report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_id = {r["id"]: r for r in rules}
    for row in report.trace():
        r = row.requirement
        rule = by_id[r.id]
        assert rule["shortDescription"]["text"] == r.title
        assert rule["properties"]["area"] == r.area and rule["properties"]["severity"] == r.severity
        assert rule["properties"]["asvs"] == list(r.asvs) and rule["properties"]["masvs"] == list(r.masvs)
    unmet = [v.requirement.id for v in report.verdicts if not v.outcome.ok]
    requirement_results = [r for r in run["results"] if r["ruleId"] in unmet]
    assert sorted(r["ruleId"] for r in requirement_results) == sorted(unmet)
    assert all(r["level"] == "error" for r in requirement_results)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    findings = {r["partialFingerprints"].get("aicoFinding/v1"): r for r in run["results"]}
    scan = findings["fp-scan-1"]
    assert scan["level"] == "error" and scan["properties"]["requirement"] == report.verdicts[0].requirement.id
    assert scan["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/app/keys.py"
    assert scan["locations"][0]["physicalLocation"]["region"]["startLine"] == 12
    assert findings["fp-fuzz-1"]["level"] == "warning"
    assert all(r["locations"] for r in run["results"])  # code scanning drops a result with no location
    assert len(run["results"]) == len(unmet) + len(report.findings)
    assert report.verdicts[7].requirement.id not in {r["ruleId"] for r in run["results"]}  # waived


def test_sarif_marks_a_report_that_did_not_check_everything() -> None:
    merged = _sarif(merged_report())["runs"][0]["invocations"][0]
    assert merged["executionSuccessful"] is False
    assert any("inspect" in n["message"]["text"] for n in merged["toolExecutionNotifications"])
    empty = _sarif(empty_report())["runs"][0]
    assert empty["invocations"][0]["executionSuccessful"] is False
    assert empty["properties"]["verdict"] != "pass"
    passing = _sarif(passing_report())["runs"][0]
    assert passing["invocations"][0]["executionSuccessful"] is True and passing["results"] == []


# ---- the command line ---------------------------------------------------------------------------------------
def test_conform_writes_every_format_through_the_cli(tmp_path: Path) -> None:
    """The user's path: ``conform --report-format``; a run that selects no test must not come out green in any
    format."""
    proc = subprocess.run(
        [sys.executable, "-m", "aico_secure.cli.main", "conform", "--target", "aico_secure.reference:build",
         "--report-dir", str(tmp_path), "-n", "1", "--report-format", "json,markdown,html,junit,sarif",
         "--pytest-args", "-k", "no_such_test_anywhere"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    written = {p.suffix: p for p in tmp_path.iterdir()}
    assert set(written) == {".json", ".md", ".html", ".xml", ".sarif"}, written
    report = document.load(written[".json"])
    assert report.verdict is not Verdict.PASS
    assert "**Verdict: PASS**" not in written[".md"].read_text()
    junit = written[".xml"].read_text()
    JUNIT_XSD.validate(junit)
    root = ET.fromstring(junit)
    assert int(root.get("failures", "0")) + int(root.get("errors", "0")) > 0
    sarif = json.loads(written[".sarif"].read_text())
    SARIF.validate(sarif)
    assert sarif["runs"][0]["properties"]["verdict"] != "pass"
    assert "Verdict: PASS" not in written[".html"].read_text()
