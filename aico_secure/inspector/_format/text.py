"""Human-readable output: the verdict first, then one line per finding, then what could not be read."""

from __future__ import annotations

from aico_secure.inspector.encodings import printable
from aico_secure.inspector.formats import InspectionFormat
from aico_secure.inspector.report import InspectionReport, one_line
from aico_secure.inspector.selfreport import PLACEHOLDER


class TextFormat(InspectionFormat):
    name = "text"

    def render(self, report: InspectionReport) -> str:
        r = report.result
        incomplete = "" if report.complete or report.verdict == "incomplete" else " (and NOT FULLY INSPECTED)"
        lines = [f"aico-secure inspect {r.root}: {report.verdict.upper()}{incomplete}",
                 f"  {r.files_read} file(s), {r.bytes_read} byte(s) read; {r.decoded_bytes} decoded byte(s) scanned; "
                 f"{len(r.findings)} finding(s); {len(r.unreadable)} unreadable; {len(r.skipped)} skipped",
                 f"  searched for {len(report.searched.canaries)} canary text(s), {report.searched.vectors} "
                 f"vector canary(ies), {len(report.searched.keys)} key(s)"]
        if report.workload:
            w = report.workload
            lines.append(f"  workload on {w.target}: drove {', '.join(w.driven) or 'nothing'}"
                         + (f"; NOT IMPLEMENTED: {', '.join(w.not_implemented)}" if w.not_implemented else ""))
        for f in sorted(r.findings, key=lambda f: (f.severity != "high", f.path, f.offset)):
            where = f"{report.rel(f.path)}@{f.offset}" + ("" if f.decoded_offset is None else f"+{f.decoded_offset}")
            extra = f" ({f.detail})" if f.detail else ""
            found = f"{f.label} as {f.encoding} in {f.container}{extra}"
            lines.append(one_line(f"{f.severity.upper():6s} {where}: {found}"))
        for path in r.unreadable:
            reason = r.unreadable_reasons.get(path, "")
            lines.append(one_line(f"UNREAD {report.rel(path)}: not fully inspected: {reason}"))
        for path in r.skipped:
            lines.append(f"SKIP   {report.rel(path)}")
        lines.append(PLACEHOLDER)
        return printable("\n".join(lines) + "\n")
