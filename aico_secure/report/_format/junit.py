"""JUnit XML, the one test-result format every CI shows: a requirement is a test case, so a CI page lists
"AICO-KM-001: ..." as passed, failed or skipped (waived) without knowing anything about aico-secure.

Shape (Jenkins xUnit ``junit-10.xsd``, which GitLab, GitHub test reporters and Azure read too): a
``requirements`` suite with one case per requirement (classname = area), a ``findings`` suite with one failing
case per finding, and a ``report`` suite whose ``verdict`` case fails whenever the report is not a pass, so a
report that checked nothing (or a source that did not finish) is red in CI even when no requirement case is.
Provenance travels as suite properties.

Built with ``xml.etree.ElementTree``: the standard library escapes attributes and text correctly, and the
format needs nothing the junit-xml/junitparser packages would add. Characters XML 1.0 cannot carry at all
(most control characters) are replaced, since no escaping can represent them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from aico_secure.conform.outcomes import Outcome, RequirementResult
from aico_secure.report._format import view
from aico_secure.report.interface import ReportFormat
from aico_secure.report.model import Finding, Provenance, Report, Verdict

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The check concluded the build does not do it: a failure. The check did not conclude at all: an error.
_FAILURE = {Outcome.FAIL, Outcome.NOT_IMPLEMENTED}
_ERROR = {Outcome.ERROR, Outcome.NOT_RUN, Outcome.NOT_TESTED}


def x(value: object) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", str(value))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: x(v) for k, v in attrs.items()})
    if text:
        element.text = x(text)
    return element


class JunitFormat(ReportFormat):
    name = "junit"
    suffix = ".junit.xml"

    def render(self, report: Report) -> str:
        root = ET.Element("testsuites", {"name": "aico-secure"})
        suites = [_requirements(report), _report_suite(report)]
        if report.findings:
            suites.insert(1, _findings(report))
        root.extend(suites)
        for key in ("tests", "failures", "errors"):
            root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
        root.set("time", f"{sum(float(s.get('time', '0')) for s in suites):.3f}")
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(name: str, cases: list[ET.Element], provenance: Provenance | None = None) -> ET.Element:
    suite = ET.Element("testsuite", {"name": name, "tests": str(len(cases))})
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.set("time", f"{sum(float(c.get('time', '0')) for c in cases):.3f}")
    if provenance is not None:
        suite.set("timestamp", x(provenance.started_at))
        properties = _sub(suite, "properties")
        for f in view.provenance_fields(provenance):
            _sub(properties, "property", name=f.label, value=f.value)
        for lib, version in sorted(provenance.libraries.items()):
            _sub(properties, "property", name=f"library {lib}", value=version)
    suite.extend(cases)
    return suite


def _requirements(report: Report) -> ET.Element:
    return _suite("requirements", [_requirement_case(report, v) for v in report.verdicts], report.provenance)


def _requirement_case(report: Report, v: RequirementResult) -> ET.Element:
    r = v.requirement
    case = ET.Element("testcase", {"classname": x(r.area), "name": x(f"{r.id}: {r.title}"),
                                   "time": f"{sum(t.duration for t in v.tests):.3f}"})
    record = report.waiver_for(r.id)
    if v.outcome is Outcome.WAIVED and record is not None:
        w = record.waiver
        _sub(case, "skipped", message=f"waived: {w.justification} ({w.approver}, until {w.expires})")
    elif v.outcome is Outcome.WAIVED:
        _sub(case, "skipped", message="waived (no waiver record in the report)")
    elif not v.outcome.ok:
        tag = "failure" if v.outcome in _FAILURE else "error"
        lines = [f"{t.nodeid}: {t.outcome.value}" + (f": {t.message}" if t.message else "")
                 for t in v.tests if not t.outcome.ok] or ["no test ran for this requirement"]
        if record is not None and record.status == "expired":
            lines.append(f"waiver NOT honoured: {view.waiver_text(record)}")
        _sub(case, tag, "\n".join(lines), type=v.outcome.value,
             message=f"{r.id} is {v.outcome.value} ({len(v.tests)} test(s))")
    return case


def _findings(report: Report) -> ET.Element:
    return _suite("findings", [_finding_case(f) for f in report.findings])


def _finding_case(f: Finding) -> ET.Element:
    where = view.location(f) or "no location"
    case = ET.Element("testcase", {"classname": x(f"findings.{f.source.value}"),
                                   "name": x(f"{f.rule_id} at {where}"), "time": "0"})
    if f.path:
        case.set("file", x(f.path))
    if f.line:
        case.set("line", str(f.line))
    body = [f"requirement: {f.requirement or 'none'}", f"fingerprint: {f.fingerprint}",
            *(f"{k}: {v}" for k, v in f.detail.items())]
    _sub(case, "failure", "\n".join(body), type=f.severity, message=f"{f.severity}: {f.message}")
    return case


def _report_suite(report: Report) -> ET.Element:
    """What the other suites cannot show: a source that did not finish, or a run that judged nothing."""
    cases = []
    for s in report.sources:
        case = ET.Element("testcase", {"classname": "sources", "name": x(f"{s.kind.value} run complete"),
                                       "time": "0"})
        if not s.complete:
            _sub(case, "failure", view.source_problems(s), type="incomplete",
                 message=f"the {s.kind.value} run did not check everything it should have")
        cases.append(case)
    verdict = ET.Element("testcase", {"classname": "report", "name": "verdict", "time": "0"})
    if report.verdict is not Verdict.PASS:
        _sub(verdict, "failure", "\n".join(view.verdict_reasons(report)), type=report.verdict.value,
             message=f"report verdict: {report.verdict.value.upper()}")
    cases.append(verdict)
    return _suite("report", cases)
