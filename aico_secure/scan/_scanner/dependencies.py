"""Known vulnerabilities in the tree's dependencies, through pip-audit used as a library.

pip-audit is used as a library (its OSV service, its pylock reader and its alias de-duplication), not as a
command, because the command cannot be made to fail closed: it collects and queries in one step, reports
"No known vulnerabilities found" with exit 0 when it audited nothing, and only says per run, not per
dependency, what it could not check. Here every dependency is queried on its own, so each one that could not be
audited is named in ``problems`` and ``items_scanned`` counts only the dependencies that really were.

Dependencies are never resolved: resolving an unpinned requirement means asking a package index and building
the tree's packages (running their code), which a scan of an untrusted tree must not do and an offline scan
cannot. An unpinned requirement is therefore audited through a pin for the same package elsewhere in the tree
(a lockfile or a pinned requirements file) when one satisfies it, and otherwise reported as a problem.

Vulnerability data must be shown to be there, not assumed: with an offline database the loopback mirror must
have answered for every dependency; with a remote service a canary (a version with a well-known advisory)
must come back vulnerable before any "nothing found" is believed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pip_audit._audit import Auditor  # type: ignore[import-untyped]
from pip_audit._dependency_source.pylock import PyLockSource  # type: ignore[import-untyped]
from pip_audit._service.interface import ResolvedDependency, ServiceError  # type: ignore[import-untyped]
from pip_audit._service.osv import OsvService  # type: ignore[import-untyped]
from pip_requirements_parser import RequirementsFile  # type: ignore[import-untyped]

from aico_secure.scan._scanner.interface import Scanner, ScanOptions
from aico_secure.scan.model import Confidence, Finding, ScannerResult, Severity
from aico_secure.scan.osv_mirror import OsvDatabase, OsvDatabaseError, OsvMirror, record_severity
from aico_secure.scan.sbom import SbomVulnerability, build_sbom

NAME = "dependencies"
# No catalog requirement covers dependency vulnerabilities (the seed's "Dependency vulnerability scanning" under
# Security Testing > Code Review has no entry), so findings name none.
REQUIREMENT: str | None = None
# An unrated advisory is still a known vulnerability in shipped code: rate it high rather than hide it low.
UNRATED = Severity.HIGH
# PyYAML 5.3.1 is affected by CVE-2020-14343 in every copy of the OSV data; a service that does not say so
# is not serving vulnerability data, whatever it answers.
CANARY = ("pyyaml", "5.3.1", frozenset({"PYSEC-2021-142", "CVE-2020-14343", "GHSA-8q59-q68h-6hv4"}))
_SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", "site-packages"})
_UNSUPPORTED = ("poetry.lock", "uv.lock", "Pipfile", "Pipfile.lock", "pdm.lock", "setup.py", "setup.cfg")
_MAX_REQUEST_SECONDS = 30.0
_ENV_LISTING = (
    "import importlib.metadata as m, json\n"
    "print(json.dumps([[d.metadata['Name'], d.version, str(getattr(d, '_path', ''))] for d in m.distributions()]))"
)


@dataclass(frozen=True)
class Declared:
    """One dependency as a manifest states it: ``version`` is the pinned version, None when not pinned."""

    name: str
    version: str | None
    path: str
    line: int
    text: str
    specifier: str = ""

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass
class _Collected:
    declared: list[Declared] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _rel(root: Path, path: Path) -> str:
    """``path`` relative to the tree when it lies inside it (a venv's python is a symlink out: not followed)."""
    for inside, base in ((path.absolute(), root.absolute()), (path.resolve(), root.resolve())):
        if inside.is_relative_to(base):
            return inside.relative_to(base).as_posix()
    return path.as_posix()


def _pin(specifier: str) -> str | None:
    """The version of an exact ``==X`` / ``===X`` pin (no wildcard, nothing else), else None."""
    match = re.fullmatch(r"\s*===?\s*([^,*\s]+)\s*", specifier)
    return match.group(1) if match else None


def discover(root: Path) -> tuple[list[Path], list[Path]]:
    """The manifests under ``root`` this scanner reads, and those it finds but cannot read."""
    readable: list[Path] = []
    unreadable: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        here = Path(dirpath)
        for name in sorted(filenames):
            if (
                (name.startswith("requirements") and name.endswith(".txt"))
                or (here.name == "requirements" and name.endswith(".txt"))
                or name == "pyproject.toml"
                or re.fullmatch(r"pylock(\.[^.]+)?\.toml", name)
            ):
                readable.append(here / name)
            elif name in _UNSUPPORTED:
                unreadable.append(here / name)
    return readable, unreadable


def _from_requirements(root: Path, path: Path, rel: str) -> _Collected:
    """A requirements file and the files it includes (``-r``/``-c``), each line reported where it is written."""
    out = _Collected()
    try:
        parsed = RequirementsFile.from_file(str(path), include_nested=True)
    except Exception as exc:  # noqa: BLE001 - the parser raises pip's whole exception zoo; any of them = unread
        out.problems.append(f"{rel}: could not be parsed ({type(exc).__name__}): not audited")
        return out

    def where(item: Any) -> tuple[str, int]:
        return (_rel(root, Path(item.filename)) if item.filename else rel), item.line_number or 0

    for invalid in parsed.invalid_lines:
        file, line = where(invalid)
        out.problems.append(f"{file}:{line}: invalid requirement line: not audited")
    for req in parsed.requirements:
        file, line = where(req)
        text = (req.line or "").strip()
        if req.req is None or req.is_url or req.is_editable:
            out.problems.append(f"{file}:{line}: {text!r} names no released version: not audited")
            continue
        spec = str(req.specifier)
        out.declared.append(Declared(req.name, _pin(spec), file, line, text, spec))
    return out


def _line_of(lines: list[str], needle: str) -> int:
    for number, text in enumerate(lines, start=1):
        if needle in text:
            return number
    return 0


def _from_pyproject(path: Path, rel: str) -> _Collected:
    out = _Collected()
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.problems.append(f"{rel}: invalid TOML ({exc}): not audited")
        return out
    table = data.get("project")
    project: dict[str, Any] = table if isinstance(table, dict) else {}
    entries = list(project.get("dependencies") or [])
    for extra in (project.get("optional-dependencies") or {}).values():
        entries.extend(extra)
    if "dependencies" in (project.get("dynamic") or []):
        out.problems.append(f"{rel}: dependencies are dynamic (computed at build time): not audited")
    lines = text.splitlines()
    for entry in entries:
        line = _line_of(lines, str(entry))
        try:
            req = Requirement(str(entry))
        except InvalidRequirement:
            out.problems.append(f"{rel}:{line}: invalid requirement {entry!r}: not audited")
            continue
        if req.url:
            out.problems.append(f"{rel}:{line}: {entry!r} names no released version: not audited")
            continue
        spec = str(req.specifier)
        out.declared.append(Declared(req.name, _pin(spec), rel, line, str(entry), spec))
    return out


def _from_pylock(path: Path, rel: str) -> _Collected:
    out = _Collected()
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    try:
        found = list(PyLockSource([path]).collect())
    except Exception as exc:  # noqa: BLE001 - pip-audit's reader raises TOML, version and its own errors alike
        out.problems.append(f"{rel}: lockfile unreadable ({exc}): not audited")
        return out
    for dep in found:
        line = _line_of(lines, f'name = "{dep.name}"')
        if dep.is_skipped():
            out.problems.append(f"{rel}:{line}: {dep.name}: {dep.skip_reason}: not audited")
        else:
            out.declared.append(Declared(dep.name, str(dep.version), rel, line, f"{dep.name}=={dep.version}"))
    return out


def _from_env(root: Path, python: Path, timeout: float) -> _Collected:
    out = _Collected()
    where = _rel(root, python)
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", _ENV_LISTING], capture_output=True, timeout=timeout, check=False
        )
        listing = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        out.problems.append(f"environment {where}: could not list installed distributions ({type(exc).__name__})")
        return out
    if not isinstance(listing, list):
        out.problems.append(f"environment {where}: could not list installed distributions (exit {done.returncode})")
        return out
    seen: set[str] = set()
    for name, version, _location in listing:
        if not name:
            out.problems.append(f"environment {where}: a distribution without a name (version {version}): not audited")
            continue
        if canonicalize_name(name) in seen:
            continue  # shadowed further down sys.path: not what this interpreter imports
        seen.add(canonicalize_name(name))
        out.declared.append(Declared(name, version, where, 0, f"{name}=={version}"))
    return out


def collect(root: Path, options: ScanOptions, timeout: float) -> _Collected:
    """Every declared dependency, by the precedence ``ScanOptions`` documents: an environment, else explicit
    requirement files, else the manifests found in the tree."""
    if options.env_python is not None:
        return _from_env(root, options.env_python, timeout)
    out = _Collected()
    if options.requirements:
        manifests = list(options.requirements)
    else:
        manifests, unreadable = discover(root)
        for path in unreadable:
            out.problems.append(f"{_rel(root, path)}: manifest format not supported: its dependencies are not audited")
    for path in manifests:
        rel = _rel(root, path)
        if not path.is_file():
            out.problems.append(f"{rel}: no such requirements file")
            continue
        if path.name == "pyproject.toml":
            part = _from_pyproject(path, rel)
        elif path.name.startswith("pylock") and path.suffix == ".toml":
            part = _from_pylock(path, rel)
        else:
            part = _from_requirements(root, path, rel)
        out.declared.extend(d for d in part.declared if d not in out.declared)  # a file both found and included
        out.problems.extend(p for p in part.problems if p not in out.problems)
    return out


def _settle(collected: _Collected) -> tuple[list[tuple[Declared, str]], list[str]]:
    """Pair every declaration with the version to audit: its own pin, or a pin elsewhere that satisfies it."""
    pins: dict[str, set[str]] = {}
    for decl in collected.declared:
        if decl.version is not None:
            pins.setdefault(decl.key, set()).add(decl.version)
    settled: list[tuple[Declared, str]] = []
    problems: list[str] = []
    for decl in collected.declared:
        if decl.version is not None:
            settled.append((decl, decl.version))
            continue
        req = Requirement(f"{decl.name}{decl.specifier}")
        covering = sorted(v for v in pins.get(decl.key, ()) if req.specifier.contains(v, prereleases=True))
        if covering:
            settled.extend((decl, v) for v in covering)
        else:
            problems.append(
                f"{decl.where}: {decl.text!r} is not pinned to one version and nothing in the tree pins it: "
                "cannot be audited without resolving it against a package index"
            )
    return settled, problems


@dataclass
class _Service:
    """pip-audit's OSV service on a session that keeps the raw records (pip-audit drops their severity)."""

    url: str
    loopback: bool
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cache = tempfile.TemporaryDirectory(prefix="aico-osv-")
        self.service = OsvService(cache_dir=Path(self._cache.name), osv_url=self.url)
        session = requests.Session()
        session.max_redirects = 5
        session.trust_env = not self.loopback  # a proxy must never stand between us and our own mirror
        session.hooks["response"].append(self._keep)
        self.service.session = session

    def _keep(self, response: requests.Response, *_args: object, **_kwargs: object) -> None:
        try:
            vulns = response.json().get("vulns", []) if response.ok else []
        except (ValueError, AttributeError):
            return
        for vuln in vulns if isinstance(vulns, list) else []:
            if isinstance(vuln, dict) and isinstance(vuln.get("id"), str):
                self.records[vuln["id"]] = vuln

    def audit(self, name: str, version: Version, timeout: float) -> list[Any]:
        """pip-audit's de-duplicated results for one dependency; raises on any failure to get an answer."""
        self.service.timeout = max(1, int(min(timeout, _MAX_REQUEST_SECONDS)))
        one = _One(ResolvedDependency(name=name, version=version))
        ((_dep, vulns),) = list(Auditor(self.service).audit(one))
        return list(vulns)

    def close(self) -> None:
        self.service.session.close()
        self._cache.cleanup()


@dataclass(frozen=True)
class _One:
    """A dependency source of one dependency: pip-audit's Auditor only calls ``collect``."""

    dependency: Any

    def collect(self) -> Iterable[Any]:
        return iter([self.dependency])


_FAILURES = (ServiceError, requests.RequestException, ValueError, KeyError, TypeError)


def _severity(service: _Service, ids: Iterable[str]) -> Severity | None:
    order = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
    rated = [Severity(r) for i in ids if i in service.records and (r := record_severity(service.records[i]))]
    return max(rated, key=order.index) if rated else None


def _endpoint(options: ScanOptions) -> tuple[str, bool]:
    url = options.osv_url or OsvService.DEFAULT_OSV_URL
    return url, urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


class DependencyScanner(Scanner):
    name = NAME

    def scan(self, root: Path, options: ScanOptions) -> ScannerResult:
        deadline = time.monotonic() + options.timeout_seconds
        result = ScannerResult(scanner=NAME)
        collected = collect(root, options, timeout=options.timeout_seconds)
        settled, unpinned = _settle(collected)
        result.problems.extend(collected.problems + unpinned)
        if not collected.declared and not collected.problems:
            return result  # no manifest: nothing to audit is not a failure of this scanner
        wanted: dict[tuple[str, str], list[Declared]] = {}
        for decl, version in settled:
            try:
                key = (decl.key, str(Version(version)))
            except InvalidVersion:
                result.problems.append(f"{decl.where}: {decl.name} {version!r} is not a PEP 440 version: not audited")
                continue
            wanted.setdefault(key, []).append(decl)
        if not wanted:
            return result
        with ExitStack() as stack:
            mirror: OsvMirror | None = None
            if options.osv_db is not None:
                try:
                    database = OsvDatabase.load(options.osv_db)
                except OsvDatabaseError as exc:
                    result.problems.append(f"vulnerability data unavailable: {exc}")
                    result.problems.extend(_not_audited(wanted, "no vulnerability data"))
                    return result
                result.problems.extend(database.problems)
                mirror = stack.enter_context(OsvMirror(database))
                url, loopback = mirror.url, True
            else:
                url, loopback = _endpoint(options)
            service = _Service(url, loopback)
            stack.callback(service.close)
            if mirror is None and not self._canary(service, url, deadline, result):
                result.problems.extend(_not_audited(wanted, "no vulnerability data"))
                return result
            audited, found = self._audit(service, wanted, deadline, result)
            if mirror is not None:
                audited = self._check_mirror(mirror, audited, wanted, result)
        result.items_scanned = len(audited)
        if audited:
            result.documents["sbom"] = build_sbom(audited, found)
        return result

    @staticmethod
    def _canary(service: _Service, url: str, deadline: float, result: ScannerResult) -> bool:
        name, version, ids = CANARY
        try:
            vulns = service.audit(name, Version(version), deadline - time.monotonic())
        except _FAILURES as exc:
            result.problems.append(f"vulnerability data unavailable: {url} did not answer ({type(exc).__name__})")
            return False
        if not any(ids & ({v.id} | set(v.aliases)) for v in vulns):
            result.problems.append(
                f"vulnerability data unavailable: {url} does not report {min(ids)} for {name} {version}, "
                "so its empty answers mean nothing"
            )
            return False
        return True

    @staticmethod
    def _audit(
        service: _Service, wanted: dict[tuple[str, str], list[Declared]], deadline: float, result: ScannerResult
    ) -> tuple[list[tuple[str, str]], list[SbomVulnerability]]:
        audited: list[tuple[str, str]] = []
        found: list[SbomVulnerability] = []
        for (name, version), decls in sorted(wanted.items()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.problems.extend(_not_audited({(name, version): decls}, "scan time bound reached"))
                continue
            try:
                vulns = service.audit(name, Version(version), remaining)
            except _FAILURES as exc:
                reason = f"vulnerability service failed ({type(exc).__name__})"
                result.problems.extend(_not_audited({(name, version): decls}, reason))
                continue
            audited.append((name, version))
            for vuln in vulns:
                aliases = tuple(sorted(vuln.aliases))
                severity = _severity(service, (vuln.id, *aliases))
                fixed = tuple(str(v) for v in vuln.fix_versions)
                found.append(SbomVulnerability(vuln.id, aliases, name, version, vuln.description, severity, fixed))
                result.findings.extend(_findings(decls, vuln.id, aliases, version, vuln.description, severity, fixed))
        return audited, found

    @staticmethod
    def _check_mirror(
        mirror: OsvMirror,
        audited: list[tuple[str, str]],
        wanted: dict[tuple[str, str], list[Declared]],
        result: ScannerResult,
    ) -> list[tuple[str, str]]:
        """pip-audit skips quietly in places (a dependency it decides not to query answers "no vulnerabilities"):
        a dependency counts as audited only if the mirror was really asked about it."""
        answered = mirror.answered()
        missing = {key: wanted[key] for key in audited if key not in answered}
        result.problems.extend(_not_audited(missing, "the vulnerability data was never consulted"))
        return [key for key in audited if key in answered]


def _not_audited(deps: dict[tuple[str, str], list[Declared]], reason: str) -> list[str]:
    return [
        f"{name} {version}: not audited ({reason}) [{', '.join(d.where for d in decls)}]"
        for (name, version), decls in sorted(deps.items())
    ]


def _findings(
    decls: list[Declared],
    advisory: str,
    aliases: tuple[str, ...],
    version: str,
    description: str,
    severity: Severity | None,
    fixed: tuple[str, ...],
) -> list[Finding]:
    also = f" ({', '.join(aliases)})" if aliases else ""
    fix = f"; fixed in {', '.join(fixed)}" if fixed else "; no fixed version"
    summary = " ".join(description.split())
    summary = summary if len(summary) <= 160 else summary[:157] + "..."
    return [
        Finding(
            rule_id=advisory,
            scanner=NAME,
            requirement=REQUIREMENT,
            severity=severity or UNRATED,
            confidence=Confidence.HIGH,
            path=decl.path,
            line=decl.line,
            message=f"{decl.name} {version} is affected by {advisory}{also}{fix}: {summary}",
            snippet=decl.text,
        )
        for decl in decls
    ]
