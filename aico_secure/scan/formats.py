"""Output formats of ``aico-secure scan`` by name: adding one never touches the command."""

from __future__ import annotations

from aico_secure.scan._format.interface import ScanFormat
from aico_secure.scan.errors import ScanError

NAMES = ("text", "json", "sarif", "cyclonedx")


def get(name: str) -> ScanFormat:
    from aico_secure.scan._format.cyclonedx import CycloneDxFormat
    from aico_secure.scan._format.json import JsonFormat
    from aico_secure.scan._format.sarif import SarifFormat
    from aico_secure.scan._format.text import TextFormat

    known: dict[str, type[ScanFormat]] = {"text": TextFormat, "json": JsonFormat, "sarif": SarifFormat,
                                          "cyclonedx": CycloneDxFormat}
    try:
        return known[name]()
    except KeyError:
        raise ScanError(f"unknown format {name!r}; choose from {', '.join(NAMES)}") from None
