"""The canonical report document, validated against ``schemas/report.schema.json`` before it is written."""

from __future__ import annotations

from aico_secure.report import document
from aico_secure.report.interface import ReportFormat
from aico_secure.report.model import Report


class JsonFormat(ReportFormat):
    name = "json"
    suffix = ".json"

    def render(self, report: Report) -> str:
        return document.dump(report)
