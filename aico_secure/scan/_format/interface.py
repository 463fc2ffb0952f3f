"""How a scan report is written for one consumer (people, CI, code scanning, SBOM tools)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from aico_secure.scan.model import ScanReport


class ScanFormat(ABC):
    name: str  # the ``--format`` value
    suffix: str  # file suffix when written next to others

    @abstractmethod
    def render(self, report: ScanReport) -> str: ...
