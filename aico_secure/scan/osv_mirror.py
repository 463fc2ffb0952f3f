"""An offline OSV service: a directory of OSV records served on a loopback ``/v1/query`` endpoint.

pip-audit only knows how to ask an OSV *service* (``POST /v1/query`` with a package and a version), so an offline
audit serves the records osv.dev publishes (one JSON file per advisory, or the per-ecosystem ``all.zip``) from
127.0.0.1 on an ephemeral port and points pip-audit's OSV service at it. The matching follows the OSV schema's
evaluation rules for the PyPI ecosystem: an explicit ``affected[].versions`` entry, or an ``ECOSYSTEM`` range
whose events (sorted by version, ``introduced``/``fixed``/``last_affected``) leave the version affected, with
versions compared as PEP 440 versions. A record the mirror cannot evaluate is a load problem, never silently
"not affected": an unreadable database must not look like a clean one.
"""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ECOSYSTEM = "PyPI"
_MAX_REQUEST_BYTES = 64 * 1024


class OsvDatabaseError(Exception):
    """The directory holds no usable OSV database (missing, or no PyPI record at all)."""


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _range_affects(events: list[Mapping[str, Any]], version: Version) -> bool:
    """OSV's ``IsAffected`` for one range: walk the events in version order; the last one at or below the
    version decides. ``introduced: "0"`` sorts first; at equal versions an introduction comes before its fix."""

    def key(event: Mapping[str, Any]) -> tuple[int, Version, int]:
        kind, text = next(iter(event.items()))
        if kind == "introduced" and text == "0":
            return (0, Version("0"), 0)
        return (1, Version(text), 0 if kind == "introduced" else 1)

    affected = False
    for event in sorted(events, key=key):
        kind, text = next(iter(event.items()))
        if kind == "introduced":
            if text == "0" or version >= Version(text):
                affected = True
        elif kind == "fixed":
            if version >= Version(text):
                affected = False
        elif kind == "last_affected" and version > Version(text):
            affected = False
    return affected


@dataclass
class OsvDatabase:
    """PyPI advisories indexed by canonical package name, plus what could not be loaded."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    loaded: int = 0

    @classmethod
    def load(cls, directory: Path) -> OsvDatabase:
        """Read every ``*.json`` record under ``directory`` and every record inside ``*.zip`` archives there."""
        if not directory.is_dir():
            raise OsvDatabaseError(f"OSV database {directory} is not a directory")
        db = cls()
        for path in sorted(directory.rglob("*")):
            if path.suffix == ".json" and path.is_file():
                db._add_text(path.read_bytes(), str(path.relative_to(directory)))
            elif path.suffix == ".zip" and path.is_file():
                db._add_zip(path, directory)
        if not db.loaded:
            raise OsvDatabaseError(f"OSV database {directory} holds no {ECOSYSTEM} advisory")
        return db

    def _add_zip(self, path: Path, directory: Path) -> None:
        try:
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member.endswith(".json"):
                        self._add_text(archive.read(member), f"{path.relative_to(directory)}:{member}")
        except (zipfile.BadZipFile, OSError) as exc:
            self.problems.append(f"OSV archive {path.name} unreadable: {exc}")

    def _add_text(self, data: bytes, where: str) -> None:
        try:
            record = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.problems.append(f"OSV record {where} is not JSON: {exc}")
            return
        problem = _check(record)
        if problem:
            self.problems.append(f"OSV record {where} unusable: {problem}")
            return
        names = {
            canonicalize_name(a["package"]["name"])
            for a in record["affected"]
            if a["package"].get("ecosystem") == ECOSYSTEM
        }
        for name in names:
            self.records.setdefault(name, []).append(record)
        if names:
            self.loaded += 1

    def query(self, name: str, version: str) -> list[dict[str, Any]]:
        """Every non-withdrawn record that says ``name`` at ``version`` is affected."""
        parsed = _version(version)
        hits = []
        for record in self.records.get(canonicalize_name(name), []):
            if record.get("withdrawn") is None and _affects(record, name, version, parsed):
                hits.append(record)
        return hits


def _check(record: object) -> str | None:
    """Why this record cannot be evaluated, or None. Only PyPI entries are checked: others are never served."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return "no id"
    affected = record.get("affected")
    if not isinstance(affected, list):
        return "no affected list"
    for entry in affected:
        package = entry.get("package") if isinstance(entry, dict) else None
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            return "an affected entry names no package"
        if package.get("ecosystem") != ECOSYSTEM:
            continue
        for rng in entry.get("ranges", []):
            if rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
                continue  # GIT ranges match commits, never a version query
            for event in rng.get("events", []):
                if not isinstance(event, dict) or len(event) != 1:
                    return "a range event is not a single {kind: version}"
                ((kind, text),) = event.items()
                if kind == "limit":
                    continue
                if kind not in ("introduced", "fixed", "last_affected"):
                    return f"unknown range event {kind!r}"
                if not isinstance(text, str) or (text != "0" and _version(text) is None):
                    return f"range version {text!r} is not a PEP 440 version"
    return None


def _affects(record: dict[str, Any], name: str, version: str, parsed: Version | None) -> bool:
    wanted = canonicalize_name(name)
    for entry in record["affected"]:
        package = entry["package"]
        if package.get("ecosystem") != ECOSYSTEM or canonicalize_name(package["name"]) != wanted:
            continue
        for listed in entry.get("versions", []):
            if listed == version or (parsed is not None and _version(listed) == parsed):
                return True
        if parsed is None:
            continue
        for rng in entry.get("ranges", []):
            if rng.get("type") in ("ECOSYSTEM", "SEMVER"):
                events = [e for e in rng.get("events", []) if "limit" not in e]
                if _range_affects(events, parsed):
                    return True
    return False


class _Handler(BaseHTTPRequestHandler):
    server: _MirrorServer

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/query":
            self._reply(404, {"error": "only /v1/query is served"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= _MAX_REQUEST_BYTES:
            self._reply(400, {"error": "missing or oversized body"})
            return
        try:
            query = json.loads(self.rfile.read(length))
            package = query["package"]
            name, ecosystem, version = package["name"], package.get("ecosystem"), query["version"]
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
            self._reply(400, {"error": "expected {package: {name, ecosystem}, version}"})
            return
        if ecosystem != ECOSYSTEM or not isinstance(name, str) or not isinstance(version, str):
            self._reply(400, {"error": f"only {ECOSYSTEM} package/version queries are served"})
            return
        vulns = self.server.database.query(name, version)
        self.server.note(name, version)
        # osv.dev answers an unaffected version with an empty object; pip-audit relies on that.
        self._reply(200, {"vulns": vulns} if vulns else {})

    def _reply(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging: a scan's output is its report."""


class _MirrorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, database: OsvDatabase) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.database = database
        self._lock = threading.Lock()
        self.answered: set[tuple[str, str]] = set()

    def note(self, name: str, version: str) -> None:
        with self._lock:
            self.answered.add((canonicalize_name(name), version))


class OsvMirror:
    """Serve ``database`` on 127.0.0.1 for the duration of a ``with`` block.

    ``answered`` lets the caller prove that the auditor really asked this mirror about each dependency,
    rather than trusting an empty result."""

    def __init__(self, database: OsvDatabase) -> None:
        self._server = _MirrorServer(database)
        self._thread = threading.Thread(target=self._server.serve_forever, name="osv-mirror", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1/query"

    def answered(self) -> set[tuple[str, str]]:
        with self._server._lock:
            return set(self._server.answered)

    def __enter__(self) -> OsvMirror:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


_GHSA_SEVERITY = {"LOW": "low", "MODERATE": "medium", "MEDIUM": "medium", "HIGH": "high", "CRITICAL": "critical"}
_CVSS3 = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "CIA": {"H": 0.56, "L": 0.22, "N": 0.0},
}


def _roundup(value: float) -> float:
    """CVSS 3.1's Roundup: the smallest one-decimal number not below ``value``, free of float noise."""
    scaled = round(value * 100_000)
    return scaled / 100_000 if scaled % 10_000 == 0 else (scaled // 10_000 + 1) / 10.0


def cvss3_base_score(vector: str) -> float | None:
    """The CVSS v3.x base score of a vector string, or None if it is not a complete v3 base vector."""
    parts = dict(p.split(":", 1) for p in vector.split("/")[1:] if ":" in p)
    if not vector.startswith("CVSS:3."):
        return None
    try:
        changed = parts["S"] == "C"
        pr = {"N": 0.85, "L": 0.68 if changed else 0.62, "H": 0.5 if changed else 0.27}[parts["PR"]]
        c, i, a = (_CVSS3["CIA"][parts[k]] for k in ("C", "I", "A"))
        iss = 1 - (1 - c) * (1 - i) * (1 - a)
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
        exploitability = 8.22 * _CVSS3["AV"][parts["AV"]] * _CVSS3["AC"][parts["AC"]] * pr * _CVSS3["UI"][parts["UI"]]
    except KeyError:
        return None
    if impact <= 0:
        return 0.0
    return _roundup(min((1.08 if changed else 1.0) * (impact + exploitability), 10.0))


def record_severity(record: Mapping[str, Any]) -> str | None:
    """The rating "low"/"medium"/"high"/"critical" as the record states it (the GitHub advisory rating, else a CVSS v3
    vector's base score), or None when the record carries no usable rating."""
    specific = record.get("database_specific")
    if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
        rating = _GHSA_SEVERITY.get(specific["severity"].upper())
        if rating:
            return rating
    for entry in record.get("severity") or []:
        if isinstance(entry, dict) and str(entry.get("type", "")).startswith("CVSS_V3"):
            score = cvss3_base_score(str(entry.get("score", "")))
            if score is not None:
                return "critical" if score >= 9 else "high" if score >= 7 else "medium" if score >= 4 else "low"
    return None
