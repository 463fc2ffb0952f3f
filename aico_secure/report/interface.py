"""One interface for every report format, so adding SARIF or HTML never touches the runner."""

from __future__ import annotations

from abc import ABC, abstractmethod

from aico_secure.report.model import Report


class ReportFormat(ABC):
    name: str
    suffix: str

    @abstractmethod
    def render(self, report: Report) -> str:
        """The whole report as text."""
