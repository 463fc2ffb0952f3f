"""Every command's JSON results as model parts: one module per command, one loader that picks the right one."""

from __future__ import annotations

from pathlib import Path

from aico_secure.report._source.conform import ConformSource
from aico_secure.report._source.fuzz import FuzzSource
from aico_secure.report._source.inspect import InspectSource
from aico_secure.report._source.interface import ResultSource
from aico_secure.report._source.scan import ScanSource
from aico_secure.report.document import ReportError, read_json
from aico_secure.report.model import Report

SOURCES: tuple[ResultSource, ...] = (ConformSource(), InspectSource(), ScanSource(), FuzzSource())


def load(path: Path) -> Report:
    """A report, inspection, scan or fuzzing result, read with a size bound and validated against its own
    schema; anything else is one ``ReportError`` line."""
    data = read_json(path, "result")
    if isinstance(data, dict):
        for source in SOURCES:
            if source.recognises(data):
                return source.convert(data, path)
    raise ReportError(f"{path} is not a result of an aico-secure command (a report, or inspect/scan/fuzz JSON)")


__all__ = ["SOURCES", "ResultSource", "load"]
