"""The report an auditor reads and signs: verdict first, then where it came from, what was checked, the
traceability matrix, findings, waivers and a sign-off table.

Every piece of text that came from a run (test names, messages, evidence, paths, waiver reasons) goes through
``text``: a ``|``, a newline, a backtick or inline HTML in a message must not break a table, open a code span or
become markup in the renderer the auditor uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from aico_secure.report._format import view
from aico_secure.report.interface import ReportFormat
from aico_secure.report.model import Report

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that start markup inside a
# paragraph or a table cell. "&" too, so "&lt;" in a message stays those four characters.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&!#])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def text(value: object) -> str:
    """``value`` as literal Markdown text on one line: never markup, never a cell or line break."""
    s = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(value))
    s = _SPECIAL.sub(r"\\\1", s)
    return _NEWLINES.sub(" ", s).strip()


def cell(value: object) -> str:
    """A table cell keeps a message's line breaks as ``<br>`` (ours, not the message's: its own ``<`` is
    escaped), which GitHub and GitLab render inside tables."""
    lines = _NEWLINES.split(str(value))
    return "<br>".join(text(line) for line in lines) or " "


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Cells must already be escaped with ``cell``/``text``; the header is ours."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


class MarkdownFormat(ReportFormat):
    name = "markdown"
    suffix = ".md"

    def render(self, report: Report) -> str:
        lines: list[str] = ["# AICO security report", ""]
        lines += _verdict(report)
        lines += _provenance(report)
        lines += _sources(report)
        lines += _areas(report)
        lines += _matrix(report)
        lines += _findings(report)
        lines += _waivers(report)
        lines += _evidence(report)
        lines += ["## Notes", ""]
        lines += [f"- {text(n)}" for n in report.notes] or ["None."]
        lines += ["", "## Sign-off", ""]
        lines += table(["Role", "Name", "Date", "Decision", "Signature"],
                       [["Auditor", " ", " ", " ", " "], ["Release owner", " ", " ", " ", " "]])
        lines.append("")
        return "\n".join(lines)


def _verdict(report: Report) -> list[str]:
    target = report.provenance.target
    totals = report.totals()
    lines = [f"**Verdict: {report.verdict.value.upper()}**", ""]
    lines += [f"- {text(reason)}" for reason in view.verdict_reasons(report)]
    lines += [
        f"- Target: {text(target.spec)} ({text(target.name)} {text(target.version)})" if target else "- Target: none",
        "- Requirements: " + (", ".join(f"{k}: {v}" for k, v in totals.items() if v) or "none judged"),
        f"- Findings: {len(report.findings)}",
        "",
    ]
    return lines


def _provenance(report: Report) -> list[str]:
    p = report.provenance
    lines = ["## Provenance", ""]
    lines += table(["Field", "Value"], [[text(f.label), cell(f.value)] for f in view.provenance_fields(p)])
    lines += ["", "### Library versions", ""]
    if p.libraries:
        lines += table(["Library", "Version"], [[text(k), text(v)] for k, v in sorted(p.libraries.items())])
    else:
        lines.append("None recorded.")
    lines.append("")
    return lines


def _sources(report: Report) -> list[str]:
    lines = ["## Sources", ""]
    if not report.sources:
        return [*lines, "No source run fed this report: nothing was checked.", ""]
    rows = [[text(s.kind.value), "yes" if s.complete else "**NO**", text(s.provenance.tool_version),
             text(s.provenance.started_at), text(s.provenance.finished_at), cell(view.source_summary(s)),
             cell(view.source_problems(s))] for s in report.sources]
    lines += table(["Source", "Complete", "Tool version", "Started", "Finished", "Summary", "Problems"], rows)
    return [*lines, ""]


def _areas(report: Report) -> list[str]:
    lines = ["## Summary per area", ""]
    summary = view.area_summary(report)
    if not summary:
        return [*lines, "No requirement was judged.", ""]
    rows = [[text(area)] + [str(counts[o]) for o in view.OUTCOMES] + [str(sum(counts.values()))]
            for area, counts in summary]
    lines += table(["Area", *view.OUTCOMES, "total"], rows)
    return [*lines, ""]


def _matrix(report: Report) -> list[str]:
    lines = ["## Traceability matrix", ""]
    rows = []
    for row in report.trace():
        r = row.requirement
        tests = "<br>".join(f"{text(t.nodeid)}: {text(t.outcome.value)} ({t.duration:.2f} s)" for t in row.tests)
        findings = "<br>".join(f"{text(f.severity)} {text(f.rule_id)} at {text(view.location(f))}"
                               for f in row.findings)
        outcome = view.outcome_label(row)
        rows.append([text(r.id), text(r.area), text(r.severity), cell(r.title), cell(r.section),
                     text(", ".join(r.asvs)) or "none", text(", ".join(r.masvs)) or "none",
                     outcome if view.row_ok(row) else f"**{text(outcome)}**", tests or "none", findings or "none",
                     cell(view.waiver_text(row.waiver)) if row.waiver else "none"])
    if not rows:
        return [*lines, "No requirement was judged and no finding names one.", ""]
    lines += table(["Requirement", "Area", "Severity", "Statement", "Seed section", "ASVS", "MASVS", "Outcome",
                    "Tests (outcome, duration)", "Findings", "Waiver"], rows)
    return [*lines, ""]


def _findings(report: Report) -> list[str]:
    lines = ["## Findings", ""]
    if not report.findings:
        return [*lines, "None.", ""]
    rows = [[text(f.severity), text(f.source.value), text(f.rule_id), text(f.requirement or "none"),
             text(view.location(f)) or "none", cell(f.message), text(f.fingerprint)] for f in report.findings]
    lines += table(["Severity", "Source", "Rule", "Requirement", "Location", "Message", "Fingerprint"], rows)
    return [*lines, ""]


def _waivers(report: Report) -> list[str]:
    lines = ["## Waivers", ""]
    if not report.waivers:
        return [*lines, "None.", ""]
    rows = []
    for record in report.waivers:
        w = record.waiver
        status = "**EXPIRED: NOT honoured**" if record.status == "expired" else text(record.status)
        rows.append([text(w.requirement), status, text(record.underlying.value if record.underlying else "none"),
                     cell(w.justification), text(w.approver), text(w.expires), "yes" if w.run else "no"])
    lines += table(["Requirement", "Status", "Outcome it covered", "Reason", "Approver", "Expires", "Tests run"],
                   rows)
    return [*lines, ""]


def _evidence(report: Report) -> list[str]:
    """Messages and recorded evidence, kept out of the matrix so the matrix stays one screen wide."""
    lines = ["## Evidence", ""]
    body: list[str] = []
    for v in report.verdicts:
        detailed = [t for t in v.tests if t.message or t.evidence]
        if not detailed and v.tests:
            continue
        body += [f"### {text(v.requirement.id)}: {text(v.outcome.value)}", ""]
        if not v.tests:
            body.append("No test ran for this requirement.")
        for t in detailed:
            body.append(f"- {text(t.nodeid)}: {text(t.outcome.value)} ({t.duration:.2f} s)")
            if t.message:
                body.append(f"  - message: {text(t.message)}")
            body += [f"  - {text(key)}: {text(value)}" for key, value in t.evidence.items()]
        body.append("")
    return lines + (body or ["No test recorded a message or evidence.", ""])
