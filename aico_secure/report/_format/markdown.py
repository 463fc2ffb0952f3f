"""The report an auditor reads and signs: verdict first, then every requirement with its evidence."""

from __future__ import annotations

from aico_secure.report.interface import ReportFormat
from aico_secure.report.model import ConformanceReport


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class MarkdownFormat(ReportFormat):
    name = "markdown"
    suffix = ".md"

    def render(self, report: ConformanceReport) -> str:
        totals = report.totals()
        lines = [
            "# AICO conformance report",
            "",
            f"- **Verdict: {'PASS' if report.ok else 'FAIL'}**",
            f"- Target: `{report.target_spec}` ({report.target_name} {report.target_version})",
            f"- Profile: `{report.profile}`; catalog version {report.catalog_version}; "
            f"aico-secure {report.tool_version}",
            f"- Run: {report.started_at} to {report.finished_at}",
            "- Totals: " + ", ".join(f"{k}: {v}" for k, v in totals.items() if v),
        ]
        lines += [f"- Note: {n}" for n in report.notes]
        lines += ["", "| Requirement | Severity | Outcome | Tests | Statement |", "|---|---|---|---|---|"]
        for v in report.verdicts:
            lines.append(
                f"| {v.requirement.id} | {v.requirement.severity} | **{v.outcome.value}** | {len(v.tests)} | "
                f"{_cell(v.requirement.title)} |"
            )
        lines += ["", "## Evidence per requirement", ""]
        for v in report.verdicts:
            refs = ", ".join(list(v.requirement.asvs) + list(v.requirement.masvs)) or "none"
            lines += [f"### {v.requirement.id}: {v.outcome.value}", "",
                      f"{v.requirement.title}", "", f"Seed section: {v.requirement.section}. References: {refs}.", ""]
            if not v.tests:
                lines.append("No test ran for this requirement.")
            for t in v.tests:
                lines.append(f"- `{t.nodeid}`: {t.outcome.value} ({t.duration:.2f} s)")
                if t.message:
                    lines.append(f"  - message: {_cell(t.message)}")
                for key, value in t.evidence.items():
                    lines.append(f"  - {key}: {_cell(value)}")
            lines.append("")
        lines += ["## Sign-off", "", "| Role | Name | Date | Signature |", "|---|---|---|---|",
                  "| Auditor | | | |", "| Release owner | | | |", ""]
        return "\n".join(lines)
