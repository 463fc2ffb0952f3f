"""Registry of report formats by name."""

from __future__ import annotations

from aico_secure.report._format.json import JsonFormat
from aico_secure.report._format.markdown import MarkdownFormat
from aico_secure.report.interface import ReportFormat

FORMATS: dict[str, type[ReportFormat]] = {"json": JsonFormat, "markdown": MarkdownFormat}


def get(name: str) -> ReportFormat:
    try:
        return FORMATS[name]()
    except KeyError:
        raise ValueError(f"unknown report format {name!r}; choose from {', '.join(sorted(FORMATS))}") from None
