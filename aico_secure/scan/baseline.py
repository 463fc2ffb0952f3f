"""Baselines: let a tree with known, justified findings pass, while any change for the worse still fails.

A baseline file (``schemas/baseline.schema.json``) holds the cryptographic inventory accepted last time and the
findings accepted until a date, each with a justification. Comparing a scan with it:

* a finding whose fingerprint is accepted, with a justification, until a date not yet past is suppressed;
  an acceptance whose date has passed no longer suppresses (the finding counts again, its message says why);
  any other finding counts, new or old;
* every asset of the scan's inventory must match a baseline asset of the same algorithm that records the same
  dimensions and is no stronger in any (key size, mode: ECB < CBC/CFB/OFB < CTR < AEAD, digest: MD5 < SHA-1 <
  SHA-224 < SHA-256 < SHA-384 < SHA-512, PBKDF2 iterations, scrypt N, Argon2 memory and time, TLS version).
  Unknown never passes for known: a key size the scan cannot tell is not vouched for by a known one, nor the
  other way round. An asset lower in some dimension than a baseline asset of its algorithm or family
  (SHA-256 -> SHA-1) is weaker (AICO-C392); anything else unmatched is new (AICO-C391). Both are findings;
* a scan without an inventory cannot be compared: that is a problem (exit 2), never a pass.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from aico_secure.scan import config_rules as rules
from aico_secure.scan._scanner.crypto_inventory import assets_of
from aico_secure.scan.errors import ScanError
from aico_secure.scan.model import Finding, ScannerResult, ScanReport

SCHEMA_PATH = Path(__file__).parent / "schemas" / "baseline.schema.json"


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator: jsonschema.protocols.Validator = validator_class(schema)
    return validator


@dataclass(frozen=True)
class BaselineAsset:
    name: str
    algorithm: str
    family: str
    strength: Mapping[str, int]


@dataclass(frozen=True)
class Acceptance:
    fingerprint: str
    justification: str
    expires: dt.date  # the last day the acceptance holds
    rule_id: str = ""
    path: str = ""


@dataclass(frozen=True)
class Baseline:
    assets: tuple[BaselineAsset, ...]
    accepted: tuple[Acceptance, ...]


def parse_baseline(data: object) -> Baseline:
    """Raises ``ScanError`` (one line, no content echoed) for anything the schema refuses or a date that does
    not exist."""
    instance: Any = data
    error = jsonschema.exceptions.best_match(_validator().iter_errors(instance))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        raise ScanError(f"baseline does not match its schema at {where}: {error.validator} check failed")
    assert isinstance(data, dict)
    assets = tuple(
        BaselineAsset(a["name"], a["algorithm"], a["family"], dict(a["strength"])) for a in data["assets"]
    )
    accepted: list[Acceptance] = []
    for index, entry in enumerate(data["accepted"]):
        try:
            expires = dt.date.fromisoformat(entry["expires"])
        except ValueError:
            raise ScanError(f"baseline accepted/{index}/expires is not a date") from None
        justification = entry["justification"].strip()
        extra = (entry.get("rule_id", ""), entry.get("path", ""))
        accepted.append(Acceptance(entry["fingerprint"], justification, expires, *extra))
    return Baseline(assets, tuple(accepted))


def load_baseline(path: Path) -> Baseline:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScanError(f"baseline {path}: cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ScanError(f"baseline {path}: not JSON") from None
    return parse_baseline(data)


def _cbom(report: ScanReport) -> object | None:
    for result in report.results:
        if "cbom" in result.documents:
            return result.documents["cbom"]
    return report.extra.get("cbom")


def _asset(record: Mapping[str, Any]) -> BaselineAsset:
    return BaselineAsset(str(record["name"]), str(record["algorithm"]), str(record["family"]),
                         dict(record["strength"]))  # fmt: skip


def baseline_document(report: ScanReport, accepted: Iterable[Acceptance] = ()) -> dict[str, object]:
    """A baseline holding this scan's inventory and the given acceptances (what ``--baseline`` reads)."""
    cbom = _cbom(report)
    if cbom is None:
        raise ScanError("the scan produced no cryptographic inventory to record")
    seen: set[tuple[str, str, str, tuple[tuple[str, int], ...]]] = set()
    assets: list[dict[str, object]] = []
    for record in assets_of(cbom):
        asset = _asset(record)
        key = (asset.name, asset.algorithm, asset.family, tuple(sorted(asset.strength.items())))
        if key not in seen:
            seen.add(key)
            assets.append({"name": asset.name, "algorithm": asset.algorithm, "family": asset.family,
                           "strength": dict(asset.strength)})  # fmt: skip
    entries = [
        {"fingerprint": a.fingerprint, "justification": a.justification, "expires": a.expires.isoformat()}
        | ({"rule_id": a.rule_id} if a.rule_id else {})
        | ({"path": a.path} if a.path else {})
        for a in accepted
    ]
    document: dict[str, object] = {"version": 1, "assets": assets, "accepted": entries}
    parse_baseline(document)  # never write what cannot be read back
    return document


def at_least(new: Mapping[str, int], old: Mapping[str, int]) -> bool:
    """``old`` vouches for ``new``: both record the same dimensions and ``new`` is no weaker in any. A baseline
    asset whose key size or version was unknown says nothing about a known one, and the other way round."""
    return new.keys() == old.keys() and all(new[key] >= value for key, value in old.items())


def _weaker_than(new: Mapping[str, int], old: Mapping[str, int]) -> bool:
    return any(key in new and new[key] < value for key, value in old.items())


@dataclass
class Comparison:
    findings: list[Finding] = field(default_factory=list)  # what still counts, asset regressions included
    suppressed: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _judge(record: Mapping[str, Any], baseline: Baseline) -> Finding | None:
    asset = _asset(record)
    if any(b.algorithm == asset.algorithm and at_least(asset.strength, b.strength) for b in baseline.assets):
        return None
    path, line = str(record.get("location") or ""), int(record.get("line") or 0)
    related = [b for b in baseline.assets if b.algorithm == asset.algorithm or (b.family and b.family == asset.family)]
    weaker = [b for b in related if _weaker_than(asset.strength, b.strength)]
    if weaker:
        names = ", ".join(sorted({b.name for b in weaker}))
        return rules.WEAKER_ALGORITHM.finding(
            "baseline", path, line, f"{asset.name} is weaker than the baseline's {names}", asset.name
        )
    return rules.NEW_ALGORITHM.finding(
        "baseline", path, line, f"{asset.name} ({asset.algorithm}) is not in the baseline inventory", asset.name
    )


def _counted(finding: Finding, accepted: Mapping[str, Acceptance], today: dt.date) -> Finding | None:
    """The finding as it counts against the baseline, or None when an acceptance in force suppresses it."""
    acceptance = accepted.get(finding.fingerprint)
    if acceptance is None or not acceptance.justification:
        return finding
    if acceptance.expires < today:
        return replace(finding, message=f"{finding.message} (accepted until {acceptance.expires.isoformat()})")
    return None


def compare(baseline: Baseline, report: ScanReport, today: dt.date | None = None) -> Comparison:
    today = today or dt.datetime.now(dt.UTC).date()
    accepted = {a.fingerprint: a for a in baseline.accepted}
    out = Comparison()
    for finding in report.findings:
        counted = _counted(finding, accepted, today)
        if counted is None:
            out.suppressed.append(finding)
        else:
            out.findings.append(counted)
    cbom = _cbom(report)
    if cbom is None:
        out.problems.append("the scan has no cryptographic inventory to compare with the baseline's")
        return out
    for record in assets_of(cbom):
        regression = _judge(record, baseline)
        if regression is None:
            continue
        counted = _counted(regression, accepted, today)  # a reviewed change can be accepted like any finding
        if counted is None:
            out.suppressed.append(regression)
        else:
            out.findings.append(counted)
    return out


def apply(report: ScanReport, path: Path, today: dt.date | None = None) -> ScanReport:
    """The report as the baseline sees it: accepted findings removed, regressions added as the ``baseline``
    scanner's findings, a comparison that could not be made as its problem. Raises ``ScanError`` for a
    baseline file that cannot be read or does not match the schema."""
    today = today or dt.datetime.now(dt.UTC).date()
    baseline = load_baseline(path)
    comparison = compare(baseline, report, today)
    accepted = {a.fingerprint: a for a in baseline.accepted}
    results: list[ScannerResult] = []
    for result in report.results:
        counted = [_counted(f, accepted, today) for f in result.findings]
        results.append(replace(result, findings=[f for f in counted if f is not None]))
    regressions = [f for f in comparison.findings if f.scanner == "baseline"]
    results.append(ScannerResult("baseline", findings=regressions, problems=list(comparison.problems)))
    extra = dict(report.extra)
    extra["baseline"] = {"suppressed": sorted({f.fingerprint for f in comparison.suppressed})}
    return ScanReport(root=report.root, results=results, extra=extra)
