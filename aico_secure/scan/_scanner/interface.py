"""The one thing every scanner does: look at a source tree and say what it found and what it covered."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from aico_secure.scan.model import ScannerResult


@dataclass(frozen=True)
class ScanOptions:
    """What the command line hands every scanner; each reads the fields it needs."""

    osv_db: Path | None = None  # a directory of OSV JSON records to audit against, offline
    osv_url: str | None = None  # another OSV endpoint
    env_python: Path | None = None  # audit this installed environment instead of the tree's manifests
    requirements: tuple[Path, ...] = field(default_factory=tuple)  # explicit requirement files
    timeout_seconds: float = 600.0  # the whole scan's time bound; a scanner that runs out reports a problem


class Scanner(ABC):
    """A scanner never raises for bad input in the tree: it records a problem and goes on with what it can."""

    name: str

    @abstractmethod
    def scan(self, root: Path, options: ScanOptions) -> ScannerResult:
        """Scan the tree under ``root`` (a directory)."""
