"""What an inspection produces: findings (verdicts), observations (supporting evidence) and totals.

Findings are what make a scan unclean. Observations (container identified, per-block entropy, symlink not
followed) only help an auditor read the findings: high entropy is what ciphertext looks like, but compressed
plaintext looks the same, so entropy is never a verdict on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["high", "medium"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium")


@dataclass(frozen=True)
class Finding:
    """One place where something that must not be readable was read.

    ``offset`` is the byte offset in ``path`` (for data found after decoding a container or a compressed
    stream: the offset of that stream or block, with ``decoded_offset`` the position inside the decoded
    bytes). ``label`` says what was found without revealing secrets: ``canary:<text>``, ``vector:<n>``,
    ``key:<name>`` (never the key bytes) or ``container:<kind>`` for a readable plaintext container.
    """

    path: str
    offset: int
    label: str
    encoding: str
    container: str = "file"
    severity: Severity = "high"
    detector: str = "literal"
    decoded_offset: int | None = None
    detail: str = ""
    entropy: float | None = None  # bits per byte of the 64 KiB block around ``offset``: evidence only

    @property
    def kind(self) -> str:
        return self.label.split(":", 1)[0]


@dataclass(frozen=True)
class Observation:
    """Supporting evidence about one file; never changes the verdict."""

    path: str
    detector: str
    detail: str
    data: Mapping[str, str | int | float] = field(default_factory=dict)


@dataclass
class InspectionResult:
    """The outcome of one scan. ``clean`` needs something read, nothing found and nothing left unread."""

    root: str
    findings: list[Finding] = field(default_factory=list)
    files_read: int = 0
    bytes_read: int = 0
    unreadable: list[str] = field(default_factory=list)
    unreadable_reasons: dict[str, str] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    decoded_bytes: int = 0  # bytes produced by decompression and container decoding, all scanned
    skipped: list[str] = field(default_factory=list)  # symlinks and special files, never followed or read

    @property
    def clean(self) -> bool:
        return not self.findings and self.files_read > 0 and not self.unreadable

    def mark_unreadable(self, where: str, reason: str) -> None:
        if where not in self.unreadable_reasons:
            self.unreadable.append(where)
        self.unreadable_reasons[where] = reason
