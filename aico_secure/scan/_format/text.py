"""For people: every finding on one line, grouped by scanner, then what could not be checked."""

from __future__ import annotations

from aico_secure.scan._format.interface import ScanFormat
from aico_secure.scan.model import ScanReport

VERDICT = {0: "clean", 1: "findings", 2: "NOT FULLY CHECKED"}


class TextFormat(ScanFormat):
    name = "text"
    suffix = ".txt"

    def render(self, report: ScanReport) -> str:
        lines = [f"aico-secure scan of {report.root}"]
        for result in report.results:
            lines.append(f"\n{result.scanner}: {result.items_scanned} item(s) scanned, "
                         f"{len(result.findings)} finding(s)")
            for f in sorted(result.findings, key=lambda f: (f.path, f.line, f.rule_id)):
                where = f"{f.path}:{f.line}" if f.line else f.path
                requirement = f" [{f.requirement}]" if f.requirement else ""
                cwe = f" CWE-{f.cwe}" if f.cwe else ""
                lines.append(f"  {where}: {f.rule_id}{requirement} {f.severity.value}/{f.confidence.value}{cwe}: "
                             f"{f.message}")
        if report.problems:
            lines.append("\nnot fully checked:")
            lines += [f"  {problem}" for problem in report.problems]
        lines.append(f"\nverdict: {VERDICT[report.exit_code]} ({len(report.findings)} finding(s), "
                     f"{len(report.problems)} problem(s))")
        return "\n".join(lines) + "\n"
