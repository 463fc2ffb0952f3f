"""Machine-readable report, validated against ``schemas/conformance-report.schema.json`` before it is written."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema

from aico_secure.report.interface import ReportFormat
from aico_secure.report.model import ConformanceReport


def report_schema() -> dict[str, object]:
    text = resources.files("aico_secure.report").joinpath("schemas/conformance-report.schema.json").read_text()
    schema: dict[str, object] = json.loads(text)
    return schema


class JsonFormat(ReportFormat):
    name = "json"
    suffix = ".json"

    def render(self, report: ConformanceReport) -> str:
        data = report.to_dict()
        jsonschema.validate(data, report_schema())
        return json.dumps(data, indent=2) + "\n"
