"""Registry of report formats by name: the one place ``conform`` and ``report render`` learn what exists."""

from __future__ import annotations

from aico_secure.report._format.html import HtmlFormat
from aico_secure.report._format.json import JsonFormat
from aico_secure.report._format.junit import JunitFormat
from aico_secure.report._format.markdown import MarkdownFormat
from aico_secure.report._format.sarif import SarifFormat
from aico_secure.report.interface import ReportFormat

FORMATS: dict[str, type[ReportFormat]] = {
    "json": JsonFormat, "markdown": MarkdownFormat, "html": HtmlFormat, "junit": JunitFormat, "sarif": SarifFormat,
}
ALIASES: dict[str, str] = {"md": "markdown"}
# Everything a command line accepts: canonical names first, then aliases.
NAMES: tuple[str, ...] = (*FORMATS, *ALIASES)


def canonical(name: str) -> str:
    """The canonical name of ``name`` (an alias resolves), or ValueError naming the choices."""
    resolved = ALIASES.get(name, name)
    if resolved not in FORMATS:
        raise ValueError(f"unknown report format {name!r}; choose from {', '.join(NAMES)}")
    return resolved


def get(name: str) -> ReportFormat:
    return FORMATS[canonical(name)]()
