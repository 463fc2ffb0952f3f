"""Human-readable output: the verdict first, then one line per finding, then what could not be read."""

from __future__ import annotations

from aico_secure.inspector.formats import InspectionFormat
from aico_secure.inspector.report import InspectionReport


class TextFormat(InspectionFormat):
    name = "text"

    def render(self, report: InspectionReport) -> str:
        r = report.result
        lines = [f"aico-secure inspect {r.root}: {report.verdict.upper()}",
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
            lines.append(f"{f.severity.upper():6s} {where}: {f.label} as {f.encoding} in {f.container}{extra}")
        for path in r.unreadable:
            lines.append(f"UNREAD {report.rel(path)}: {r.unreadable_reasons.get(path, '')}")
        return "\n".join(lines) + "\n"
