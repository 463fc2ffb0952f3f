"""Waivers: accepted, time-limited exceptions for catalog requirements (InSpec's shape), loaded and applied.

A waiver file is checked completely before a conformance run starts (schema, catalog, duplicates, what the
profile allows), because a waiver that only fails after a half-hour run wastes the run, and a waiver that is
silently ignored turns into a failed release gate nobody expected. Applying a waiver never hides what
happened: the requirement's real outcome travels with it (``WaiverRecord.underlying``), an expired waiver is
not honoured and is flagged, and a waiver on a requirement that passed is recorded "unused" so stale waivers
show up in review.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from aico_secure.bounded_read import NotARegularFile, TooLarge, read_at_most
from aico_secure.conform.catalog import Catalog
from aico_secure.conform.outcomes import Outcome, RequirementResult
from aico_secure.report.model import Waiver, WaiverRecord

MAX_WAIVER_BYTES = 256 * 1024  # hundreds of waivers fit; anything larger is not a waiver file
SCHEMA = "waivers.schema.json"
# A profile that gates releases: a critical requirement cannot be waived there.
STRICT_PROFILES = ("release",)


class WaiverError(Exception):
    """A waiver file cannot be read, is malformed or is not acceptable for this run (one line, exit 2)."""


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` without aliases (an alias bomb fits in a few hundred bytes) and without implicit
    timestamps, so ``expires: 2027-03-31`` stays the string the schema checks as a date."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed in a waiver file",
                                              self.peek_event().start_mark)  # type: ignore[no-untyped-call]
        return super().compose_node(parent, index)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("aico_secure.report").joinpath("schemas", SCHEMA).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _read(path: Path) -> str:
    try:
        raw = read_at_most(path, MAX_WAIVER_BYTES)
    except NotARegularFile:
        raise WaiverError(f"cannot read waiver file {path}: not a regular file") from None
    except OSError as exc:
        raise WaiverError(f"cannot read waiver file {path}: {exc.strerror or exc}") from None
    except TooLarge:
        raise WaiverError(f"waiver file {path} is larger than {MAX_WAIVER_BYTES // 1024} KiB; refusing to read it") \
            from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WaiverError(f"waiver file {path} is not UTF-8 text") from None


def parse(text: str, where: str = "waiver file") -> list[Waiver]:
    """Waivers from YAML text, schema-validated; every problem is one ``WaiverError`` line."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, RecursionError) as exc:
        first = " ".join(str(exc).split())[:200]
        raise WaiverError(f"{where} is not valid YAML: {first}") from None
    try:
        jsonschema.validate(data, schema(), format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as exc:
        at = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise WaiverError(f"{where} is invalid at {at}: {exc.message[:200]}") from None
    return [Waiver(w["requirement"], w["justification"], w["approver"], w["expires"], w.get("run", True))
            for w in data["waivers"]]


def check(waivers: Iterable[Waiver], catalog: Catalog, profile: str, where: str = "waiver file") -> None:
    """What the schema cannot see: every waiver names a catalog requirement, once, and a release run waives
    nothing critical."""
    seen: set[str] = set()
    for waiver in waivers:
        requirement = catalog.get(waiver.requirement)
        if requirement is None:
            raise WaiverError(f"{where} waives {waiver.requirement}, which is not in the requirement catalog")
        if waiver.requirement in seen:
            raise WaiverError(f"{where} waives {waiver.requirement} more than once")
        seen.add(waiver.requirement)
        if profile in STRICT_PROFILES and requirement.severity == "critical":
            raise WaiverError(f"{where} waives {waiver.requirement}, a critical requirement: the {profile} "
                              "profile does not accept waivers on critical requirements")


def load(path: Path, catalog: Catalog, profile: str) -> list[Waiver]:
    """Read, parse and check a waiver file: what ``conform`` does before anything runs."""
    waivers = parse(_read(path), f"waiver file {path}")
    check(waivers, catalog, profile, f"waiver file {path}")
    return waivers


def today() -> date:
    return datetime.now(UTC).date()


def honoured(waiver: Waiver, on: date) -> bool:
    """A waiver holds up to and including its expiry day (UTC)."""
    return date.fromisoformat(waiver.expires) >= on


def not_run(waivers: Iterable[Waiver], on: date) -> set[str]:
    """The requirements whose tests are not to run at all: ``run: false`` and not expired. An expired
    ``run: false`` waiver deselects nothing, so the requirement is judged again."""
    return {w.requirement for w in waivers if not w.run and honoured(w, on)}


@dataclass(frozen=True)
class Applied:
    verdicts: list[RequirementResult]
    records: list[WaiverRecord]
    notes: list[str]


def apply(verdicts: Iterable[RequirementResult], waivers: Iterable[Waiver], on: date) -> Applied:
    """Turn the verdicts of waived requirements into "waived", keeping the real outcome in the record.

    An unexpired waiver on a requirement that is not ok makes it "waived" ("applied"); on one that passed it
    changes nothing ("unused"); an expired waiver changes nothing and is flagged in a note ("expired"). A waiver
    on a requirement this run did not judge at all is "unused".
    """
    by_id = {w.requirement: w for w in waivers}
    out: list[RequirementResult] = []
    records: dict[str, WaiverRecord] = {}
    notes: list[str] = []
    for verdict in verdicts:
        waiver = by_id.get(verdict.requirement.id)
        if waiver is None:
            out.append(verdict)
            continue
        if not honoured(waiver, on):
            records[waiver.requirement] = WaiverRecord(waiver, "expired", verdict.outcome)
            notes.append(f"waiver for {waiver.requirement} expired on {waiver.expires} and was not honoured "
                         f"(outcome {verdict.outcome.value})")
            out.append(verdict)
        elif verdict.outcome is Outcome.PASS:
            records[waiver.requirement] = WaiverRecord(waiver, "unused", verdict.outcome)
            out.append(verdict)
        else:
            # A requirement that was not run because its waiver says so is "not run" underneath, not "not tested".
            underlying = Outcome.NOT_RUN if not waiver.run and not verdict.tests else verdict.outcome
            records[waiver.requirement] = WaiverRecord(waiver, "applied", underlying)
            out.append(RequirementResult(verdict.requirement, Outcome.WAIVED, verdict.tests))
    for waiver in by_id.values():
        if waiver.requirement not in records:
            records[waiver.requirement] = WaiverRecord(waiver, "expired" if not honoured(waiver, on) else "unused")
            if not honoured(waiver, on):
                notes.append(f"waiver for {waiver.requirement} expired on {waiver.expires}")
    return Applied(out, [records[w] for w in by_id], notes)


__all__ = ["MAX_WAIVER_BYTES", "Applied", "WaiverError", "apply", "check", "honoured", "load", "not_run",
           "parse", "today"]
