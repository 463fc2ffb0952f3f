"""``aico-secure conform``'s report.json: already the canonical model, so it is validated and read as it is."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aico_secure.report import document
from aico_secure.report._source.interface import ResultSource
from aico_secure.report.document import ReportError
from aico_secure.report.model import REPORT_KIND, REPORT_VERSION, Report, SourceKind


class ConformSource(ResultSource):
    kind = SourceKind.CONFORM

    def recognises(self, data: Mapping[str, Any]) -> bool:
        return data.get("report") == REPORT_KIND

    def convert(self, data: Mapping[str, Any], path: Path) -> Report:
        version = data.get("report_version")
        if version != REPORT_VERSION:
            raise ReportError(f"{path} is an aico-secure report of version {version!r}; this tool reads version "
                              f"{REPORT_VERSION} (re-run the command that wrote it)")
        # document.load holds every check a report gets (schema, summary consistent with content); it reads the
        # file a second time, bounded, rather than this module repeating those checks and drifting from them.
        return document.load(path)
