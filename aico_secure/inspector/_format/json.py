"""Machine-readable output, validated against the shipped schema before it is written (a report that does not
match its documented schema is a bug, never output)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema

from aico_secure.inspector.formats import InspectionFormat
from aico_secure.inspector.report import InspectionReport


def inspection_schema() -> dict[str, Any]:
    text = resources.files("aico_secure.inspector").joinpath("schemas/inspection.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


class JsonFormat(InspectionFormat):
    name = "json"

    def render(self, report: InspectionReport) -> str:
        data = report.to_dict()
        jsonschema.validate(data, inspection_schema())
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
