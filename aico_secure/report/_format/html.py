"""One self-contained HTML page per report: CI publishes it as an artifact and an auditor opens it offline.

No external asset of any kind (inline CSS and JS only) and a Content-Security-Policy that forbids everything
else, so opening a report can neither leak that it was opened nor load code from anywhere. Every piece of text
from a run is escaped with ``html.escape``; the script never builds markup from data, it only hides and shows
rows the server-side rendering already escaped. Built with the standard library rather than a template engine:
the page is a handful of tables and one fixed script, and it keeps the runtime dependencies as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape

from aico_secure.report._format import view
from aico_secure.report.interface import ReportFormat
from aico_secure.report.model import Report

ATTENTION = "needs attention (not met, or a finding stands)"
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1800px;padding:1em 2em;color:#1d1d1f}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #d0d0d0;padding:3px 6px;vertical-align:top;text-align:left;overflow-wrap:anywhere}
#matrix-table td:nth-child(4){min-width:16em}#matrix-table td:nth-child(9){min-width:16em}
#matrix-table td:nth-child(-n+3),#matrix-table td:nth-child(8),#matrix-table th{overflow-wrap:normal;white-space:nowrap}
#matrix-table td:nth-child(5){min-width:8em}#matrix-table td:nth-child(11){min-width:12em}
th{background:#f2f2f2}td.num{text-align:right}
.verdict{font-size:1.6em;font-weight:700;padding:.3em .6em;display:inline-block;border-radius:4px}
.v-pass{background:#d8f5d8;color:#0a5d0a}.v-fail{background:#fbd5d5;color:#8a1010}
.v-incomplete{background:#fdf0c8;color:#6b4e00}
.o-pass,.o-waived{color:#0a5d0a}.o-bad{color:#8a1010;font-weight:700}
.expired{color:#8a1010;font-weight:700}
.filters{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ccc;z-index:1}
.filters label{margin-right:1em}
ul.tests{margin:0;padding-left:1.2em}small{color:#555}
"""

# Fixed script: it reads the filter controls and the rows' data-* attributes, and only toggles ``hidden``.
_SCRIPT = """
(function () {
  "use strict";
  var controls = ["f-outcome", "f-area", "f-severity", "f-text"].map(function (id) {
    return document.getElementById(id);
  });
  function matches(row, outcome, area, severity, needle) {
    var o = row.getAttribute("data-outcome");
    if (outcome === "not-ok" && row.getAttribute("data-ok") === "1") { return false; }
    if (outcome !== "" && outcome !== "not-ok" && o !== outcome) { return false; }
    if (area !== "" && row.getAttribute("data-area") !== area) { return false; }
    if (severity !== "" && row.getAttribute("data-severity") !== severity) { return false; }
    return needle === "" || row.textContent.toLowerCase().indexOf(needle) !== -1;
  }
  function apply() {
    var outcome = controls[0].value, area = controls[1].value, severity = controls[2].value;
    var needle = controls[3].value.trim().toLowerCase();
    document.querySelectorAll("table.filterable").forEach(function (table) {
      var rows = table.querySelectorAll("tbody tr"), shown = 0;
      rows.forEach(function (row) {
        var keep = matches(row, table.getAttribute("data-outcomes") === "1" ? outcome : "", area, severity, needle);
        row.hidden = !keep;
        if (keep) { shown += 1; }
      });
      var counter = document.getElementById(table.id + "-count");
      if (counter) { counter.textContent = shown + " of " + rows.length + " shown"; }
    });
  }
  controls.forEach(function (c) { c.addEventListener("input", apply); c.addEventListener("change", apply); });
  apply();
}());
"""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def e(value: object) -> str:
    """Text as HTML text or attribute value; control characters (parse errors in HTML) become U+FFFD."""
    return escape(_CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(value)), quote=True)


def _table(header: Sequence[str], rows: Iterable[str], table_id: str = "", filterable: bool = False,
           outcomes: bool = False) -> str:
    attrs = f' id="{table_id}"' if table_id else ""
    if filterable:
        attrs += ' class="filterable"' + (' data-outcomes="1"' if outcomes else "")
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _select(control_id: str, label: str, options: Iterable[tuple[str, str]]) -> str:
    opts = "".join(f'<option value="{e(v)}">{e(t)}</option>' for v, t in options)
    return f'<label>{e(label)} <select id="{control_id}">{opts}</select></label>'


class HtmlFormat(ReportFormat):
    name = "html"
    suffix = ".html"

    def render(self, report: Report) -> str:
        body = "".join([_summary(report), _areas(report), _filters(report), _matrix(report), _findings(report),
                        _provenance(report), _sources(report), _waivers(report), _notes(report)])
        return ("<!DOCTYPE html>\n"
                '<html lang="en"><head><meta charset="utf-8">'
                f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>AICO security report: {e(report.verdict.value.upper())}</title>"
                f"<style>{_STYLE}</style></head><body>{body}<script>{_SCRIPT}</script></body></html>\n")


def _summary(report: Report) -> str:
    target = report.provenance.target
    totals = "".join(f'<tr><td>{e(k)}</td><td class="num">{v}</td></tr>' for k, v in report.totals().items())
    reasons = "".join(f"<li>{e(r)}</li>" for r in view.verdict_reasons(report))
    who = f"{target.spec} ({target.name} {target.version})" if target else "none"
    return (f'<header id="summary"><h1>AICO security report</h1>'
            f'<p><span id="verdict" class="verdict v-{e(report.verdict.value)}">'
            f"Verdict: {e(report.verdict.value.upper())}</span></p>"
            f"<ul>{reasons}</ul><p>Target: {e(who)}</p>"
            f'<table id="totals"><thead><tr><th>Outcome</th><th>Requirements</th></tr></thead><tbody>{totals}'
            f'<tr><td>findings</td><td class="num">{len(report.findings)}</td></tr></tbody></table></header>')


def _areas(report: Report) -> str:
    summary = view.area_summary(report)
    if not summary:
        return '<section id="areas"><h2>Summary per area</h2><p>No requirement was judged.</p></section>'
    rows = ("<tr><td>" + e(area) + "</td>" + "".join(f'<td class="num">{counts[o]}</td>' for o in view.OUTCOMES)
            + f'<td class="num">{sum(counts.values())}</td></tr>' for area, counts in summary)
    return ('<section id="areas"><h2>Summary per area</h2>'
            + _table(["Area", *view.OUTCOMES, "total"], rows, "area-table") + "</section>")


def _filters(report: Report) -> str:
    areas = sorted({r.requirement.area for r in report.trace()})
    return ('<section class="filters" id="filters">'
            + _select("f-outcome", "Outcome", [("", "all"), ("not-ok", ATTENTION),
                                               *((o, o) for o in (*view.OUTCOMES, view.NO_VERDICT))])
            + _select("f-area", "Area", [("", "all"), *((a, a) for a in areas)])
            + _select("f-severity", "Severity", [("", "all"), *((s, s) for s in view.SEVERITIES)])
            + '<label>Search <input id="f-text" type="search" placeholder="requirement, test, message"></label>'
            + "</section>")


def _outcome_class(ok: bool, outcome: str) -> str:
    return f"o-{outcome}" if ok else "o-bad"


def _matrix(report: Report) -> str:
    rows = []
    for row in report.trace():
        r = row.requirement
        outcome = view.outcome_label(row)
        ok = view.row_ok(row)
        tests = "".join(
            f'<li><span class="{_outcome_class(t.outcome.ok, t.outcome.value.replace(" ", "-"))}">'
            f"{e(t.outcome.value)}</span> {e(t.nodeid)} <small>{t.duration:.2f} s</small>"
            + (f"<br><small>{e(t.message)}</small>" if t.message else "")
            + "".join(f"<br><small>{e(k)}: {e(v)}</small>" for k, v in t.evidence.items()) + "</li>"
            for t in row.tests)
        findings = "".join(f"<li>{e(f.severity)} {e(f.rule_id)} {e(view.location(f))}</li>" for f in row.findings)
        waiver = e(view.waiver_text(row.waiver)) if row.waiver else "none"
        waiver_class = ' class="expired"' if row.waiver and row.waiver.status == "expired" else ""
        rows.append(
            f'<tr data-outcome="{e(outcome)}" data-ok="{1 if ok else 0}" data-area="{e(r.area)}" '
            f'data-severity="{e(r.severity)}"><td>{e(r.id)}</td><td>{e(r.area)}</td><td>{e(r.severity)}</td>'
            f"<td>{e(r.title)}</td><td>{e(r.section)}</td><td>{e(', '.join(r.asvs)) or 'none'}</td>"
            f"<td>{e(', '.join(r.masvs)) or 'none'}</td>"
            f'<td class="{_outcome_class(ok, outcome.replace(" ", "-"))}">{e(outcome)}</td>'
            f'<td>{f"<ul class=tests>{tests}</ul>" if tests else "none<br>"}'
            f'<small>{len(row.tests)} test(s), {view.duration(row):.2f} s</small></td>'
            f'<td>{f"<ul>{findings}</ul>" if findings else "none"}</td><td{waiver_class}>{waiver}</td></tr>')
    header = ["Requirement", "Area", "Severity", "Statement", "Seed section", "ASVS", "MASVS", "Outcome", "Tests",
              "Findings", "Waiver"]
    return ('<section id="matrix"><h2>Traceability matrix</h2><p id="matrix-table-count"></p>'
            + (_table(header, rows, "matrix-table", filterable=True, outcomes=True) if rows
               else "<p>No requirement was judged and no finding names one.</p>") + "</section>")


def _findings(report: Report) -> str:
    rows = (f'<tr data-area="{e(view.finding_area(report, f))}" data-severity="{e(f.severity)}">'
            f"<td>{e(f.severity)}</td><td>{e(f.source.value)}</td><td>{e(f.rule_id)}</td>"
            f"<td>{e(f.requirement or 'none')}</td><td>{e(view.location(f)) or 'none'}</td><td>{e(f.message)}</td>"
            f"<td><small>{e(f.fingerprint)}</small></td></tr>" for f in report.findings)
    if not report.findings:
        return '<section id="findings"><h2>Findings</h2><p>None.</p></section>'
    return ('<section id="findings"><h2>Findings</h2><p id="findings-table-count"></p>'
            + _table(["Severity", "Source", "Rule", "Requirement", "Location", "Message", "Fingerprint"], rows,
                     "findings-table", filterable=True) + "</section>")


def _provenance(report: Report) -> str:
    p = report.provenance
    fields = (f"<tr><th>{e(f.label)}</th><td>{e(f.value)}</td></tr>" for f in view.provenance_fields(p))
    libraries = (f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in sorted(p.libraries.items()))
    return ('<section id="provenance"><h2>Provenance</h2>'
            f'<table id="provenance-table"><tbody>{"".join(fields)}</tbody></table>'
            "<h3>Library versions</h3>" + (_table(["Library", "Version"], libraries) if p.libraries
                                           else "<p>None recorded.</p>") + "</section>")


def _sources(report: Report) -> str:
    if not report.sources:
        return '<section id="sources"><h2>Sources</h2><p>No source run fed this report: nothing was checked.</p>' \
               "</section>"
    rows = (f"<tr><td>{e(s.kind.value)}</td><td{'' if s.complete else ' class=o-bad'}>"
            f"{'yes' if s.complete else 'NO'}</td><td>{e(s.provenance.tool_version)}</td>"
            f"<td>{e(s.provenance.started_at)}</td><td>{e(s.provenance.finished_at)}</td>"
            f"<td>{e(view.source_summary(s))}</td><td>{e(view.source_problems(s))}</td></tr>" for s in report.sources)
    return ('<section id="sources"><h2>Sources</h2>'
            + _table(["Source", "Complete", "Tool version", "Started", "Finished", "Summary", "Problems"], rows)
            + "</section>")


def _waivers(report: Report) -> str:
    if not report.waivers:
        return '<section id="waivers"><h2>Waivers</h2><p>None.</p></section>'
    rows = []
    for record in report.waivers:
        w = record.waiver
        status = ('<td class="expired">EXPIRED: NOT honoured</td>' if record.status == "expired"
                  else f"<td>{e(record.status)}</td>")
        rows.append(f"<tr><td>{e(w.requirement)}</td>{status}"
                    f"<td>{e(record.underlying.value if record.underlying else 'none')}</td>"
                    f"<td>{e(w.justification)}</td><td>{e(w.approver)}</td><td>{e(w.expires)}</td>"
                    f"<td>{'yes' if w.run else 'no'}</td></tr>")
    return ('<section id="waivers"><h2>Waivers</h2>'
            + _table(["Requirement", "Status", "Outcome it covered", "Reason", "Approver", "Expires", "Tests run"],
                     rows, "waivers-table") + "</section>")


def _notes(report: Report) -> str:
    items = "".join(f"<li>{e(n)}</li>" for n in report.notes)
    return f'<section id="notes"><h2>Notes</h2>{f"<ul>{items}</ul>" if items else "<p>None.</p>"}</section>'
