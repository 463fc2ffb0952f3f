"""One interface for every command whose results a report can hold, so adding a new source never touches merge.

A source recognises its own document by a marker the command writes (never by guessing from the shape), checks
it against that command's schema, and turns it into a partial ``Report``: the verdicts, findings, one
``SourceRun`` per run and the waivers it carries. A source must never claim more than its document says: what
the document does not record is marked as not recorded, and a run that did not check everything it should
have is ``complete=False`` with the reason in ``problems``.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from aico_secure.report.document import ReportError
from aico_secure.report.model import Provenance, Report, SourceKind


class ResultSource(ABC):
    kind: SourceKind

    @abstractmethod
    def recognises(self, data: Mapping[str, Any]) -> bool:
        """True if ``data`` carries this command's marker (of any version: a wrong version is then refused by
        ``convert`` with a message naming the version, not as "unknown document")."""

    @abstractmethod
    def convert(self, data: Mapping[str, Any], path: Path) -> Report:
        """The model parts of one document; ``ReportError`` (one line) if it is not valid."""


def check(data: Any, schema: Mapping[str, Any], what: str, path: Path) -> None:
    """``data`` against a command's own schema, failing as one line that names the file and the place."""
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        at = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise ReportError(f"{path} is not a valid {what} document at {at}: {exc.message[:200]}") from None


def not_recorded(command: str) -> str:
    return f"unknown (not recorded by {command})"


def recorded_provenance(command: str, tool_version: str, arguments: tuple[str, ...], *,
                        started_at: str | None = None, finished_at: str | None = None,
                        python: str | None = None, platform: str | None = None,
                        libraries: Mapping[str, str] | None = None) -> Provenance:
    """The provenance a command's document supports, every field it does not record marked so, never guessed
    from the machine that merges it."""
    unknown = not_recorded(command)
    return Provenance(command=command, tool_version=tool_version, started_at=started_at or unknown,
                      finished_at=finished_at or unknown, python=python or unknown, openssl=unknown,
                      platform=platform or unknown, libraries=dict(libraries or {}), arguments=arguments)


def fingerprint(*parts: str) -> str:
    """A stable identity for a finding: the same problem in a later run has the same fingerprint."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()
