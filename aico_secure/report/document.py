"""Reading and writing the canonical JSON report: bounded, schema-validated both ways, one-line errors.

Every report command (render, merge, diff, sign) starts from ``load``, so a truncated, oversize or hand-edited
document is refused before anything is rendered from it, and ``dump`` validates before a byte is written, so
no command ever writes a report a consumer would have to second-guess.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from aico_secure.bounded_read import NotARegularFile, TooLarge, read_at_most
from aico_secure.report.model import REPORT_KIND, Report

MAX_REPORT_BYTES = 64 * 1024 * 1024
SCHEMA = "report.schema.json"


class ReportError(Exception):
    """A report could not be read, parsed or validated (one line, exit 2)."""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("aico_secure.report").joinpath("schemas", SCHEMA).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(data: Any, where: str = "report") -> None:
    try:
        jsonschema.validate(data, schema(), format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as exc:
        at = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise ReportError(f"{where} is not a valid aico-secure report at {at}: {exc.message[:200]}") from None


def read_json(path: Path, what: str = "report", limit: int = MAX_REPORT_BYTES) -> Any:
    """A JSON document from ``path``, read with a size limit; every failure is one ``ReportError`` line."""
    try:
        raw = read_at_most(path, limit)
    except NotARegularFile:
        raise ReportError(f"cannot read {what} {path}: not a regular file") from None
    except OSError as exc:
        raise ReportError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except TooLarge:
        raise ReportError(f"{what} {path} is larger than {limit // (1024 * 1024)} MiB; refusing to read it") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ReportError(f"{what} {path} is not JSON: {str(exc)[:200]}") from None


def load(path: Path) -> Report:
    data = read_json(path)
    if not isinstance(data, dict) or data.get("report") != REPORT_KIND:
        raise ReportError(f"{path} is not an aico-secure report (no \"report\": \"{REPORT_KIND}\")")
    validate(data, str(path))
    report = Report.from_dict(data)
    _check_consistent(data, report.to_dict(), path)
    return report


DERIVED = ("verdict", "complete", "totals", "finding_totals")


def _check_consistent(stated: dict[str, Any], derived: dict[str, Any], path: Path) -> None:
    """The summary fields must follow from the content: a hand-edited "verdict": "pass" above failing
    requirements is refused, not rendered as a pass."""
    for key in DERIVED:
        if stated.get(key) != derived[key]:
            said, follows = json.dumps(stated.get(key))[:80], json.dumps(derived[key])[:80]
            raise ReportError(f"{path} is inconsistent: its {key!r} does not follow from its contents "
                              f"(says {said}, contents give {follows})")
    for said, recomputed in zip(stated["requirements"], derived["requirements"], strict=True):
        if said["findings"] != recomputed["findings"] or said["waiver"] != recomputed["waiver"]:
            raise ReportError(f"{path} is inconsistent: the findings or waiver listed under {said['id']} "
                              "do not match the report's findings and waivers")


def dump(report: Report) -> str:
    data = report.to_dict()
    validate(data)
    return json.dumps(data, indent=2) + "\n"
