"""What a scan produces: findings, each tied to a catalog requirement, and what each scanner covered.

Coverage is part of the result, not a log line: a scanner that read nothing, or could not finish (a file it
could not parse, a dependency it could not audit, vulnerability data it could not reach), says so in
``problems``, and the orchestrator turns any problem into "not fully checked" (exit 2), never a clean pass.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Finding:
    """One problem at one place. ``path`` is relative to the scanned tree (POSIX separators); ``line`` is
    1-based (0 when the problem has no line, e.g. a vulnerable dependency named only in a lockfile)."""

    rule_id: str  # "AICO-S101", "B105", "PYSEC-2023-1", ...
    scanner: str  # "static", "config", "dependencies", "crypto"
    requirement: str | None  # the catalog requirement it threatens ("AICO-BUS-001"), None if none applies
    severity: Severity
    confidence: Confidence
    path: str
    line: int
    message: str  # one line; never the secret value itself
    cwe: int | None = None
    snippet: str = ""  # the offending line with any secret value masked

    @property
    def fingerprint(self) -> str:
        """Stable across runs and line moves: rule, file and the masked text of the line (SARIF's
        ``partialFingerprints`` and baselines use it)."""
        text = f"{self.rule_id}|{self.path}|{' '.join(self.snippet.split())}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class ScannerResult:
    """What one scanner found and covered."""

    scanner: str
    findings: list[Finding] = field(default_factory=list)
    items_scanned: int = 0  # files parsed, dependencies audited, config files read: 0 means it checked nothing
    problems: list[str] = field(default_factory=list)  # why coverage is incomplete, one line each
    documents: dict[str, object] = field(default_factory=dict)  # SBOM / CBOM for ScanReport.extra, keyed by kind


@dataclass
class ScanReport:
    """Every scanner's result for one tree; the exit code follows from it."""

    root: Path
    results: list[ScannerResult]
    extra: dict[str, object] = field(default_factory=dict)  # SBOM / CBOM documents, keyed by kind

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    @property
    def problems(self) -> list[str]:
        found = [f"{r.scanner}: {p}" for r in self.results for p in r.problems]
        if not any(r.items_scanned for r in self.results):
            found.append("nothing was scanned: no Python source, configuration file or dependency manifest")
        return found

    @property
    def exit_code(self) -> int:
        if self.problems:
            return 2
        return 1 if self.findings else 0
