"""Output formats of ``aico-secure inspect`` by name: adding one never touches the command."""

from __future__ import annotations

from abc import ABC, abstractmethod

from aico_secure.inspector.report import InspectionReport


class InspectionFormat(ABC):
    name: str

    @abstractmethod
    def render(self, report: InspectionReport) -> str:
        """The whole report as text."""


def get(name: str) -> InspectionFormat:
    from aico_secure.inspector._format.json import JsonFormat
    from aico_secure.inspector._format.sarif import SarifFormat
    from aico_secure.inspector._format.text import TextFormat

    formats: dict[str, type[InspectionFormat]] = {"text": TextFormat, "json": JsonFormat, "sarif": SarifFormat}
    try:
        return formats[name]()
    except KeyError:
        raise ValueError(f"unknown format {name!r}; choose from {', '.join(sorted(formats))}") from None


NAMES = ("text", "json", "sarif")
