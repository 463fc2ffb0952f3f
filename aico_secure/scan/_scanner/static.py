"""The static scanner: bandit, run as a library, with bandit's own tests and this package's AICO plugins.

Bandit is embedded rather than run as a command so its issues arrive as objects (test id, CWE, line) and so its
quiet failure modes become coverage problems: a file it could not parse and a plugin that crashed on a file are
both recorded in ``problems`` (the scan then exits 2), never dropped. ``items_scanned`` counts files parsed.

Virtual environments (any directory holding ``pyvenv.cfg``), VCS metadata and caches are not walked: installed
packages are the dependency scanner's concern, and their own findings are not the tree's.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any

from aico_secure.scan._scanner.interface import Scanner, ScanOptions
from aico_secure.scan.bandit_plugins._shapes import KEY_TOKEN
from aico_secure.scan.model import Confidence, Finding, ScannerResult, Severity
from aico_secure.scan.rules import BY_ID, RULES, requirement_for

_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache",
              ".eggs", "node_modules", ".hypothesis"}
_SEVERITY = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH}
_CONFIDENCE = {"LOW": Confidence.LOW, "MEDIUM": Confidence.MEDIUM, "HIGH": Confidence.HIGH}
# Rules whose line is likely to hold the secret itself: every string literal on it is masked, not just the
# key-shaped ones (bandit's hard-coded password tests also quote the value in their message).
_SECRET_RULES = {"AICO-S101", "B105", "B106", "B107"}
# A string literal, or one still open at the end of the line (it runs on past the snippet).
_STRING = re.compile(r"""(?P<prefix>(?<!\w)[rRbBuUfF]{0,2})(?P<quote>'''|\"\"\"|'|")(?P<body>.*?)(?:(?P=quote)|$)""")
MASK = "***"
_BATCH = 50  # files per bandit run: the time bound is checked between runs


def python_files(root: Path) -> list[Path]:
    """Every ``.py``/``.pyw`` file under root, outside virtual environments, VCS metadata and caches."""
    found: list[Path] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not (Path(current, d) / "pyvenv.cfg").exists())
        found.extend(Path(current, f) for f in sorted(files) if f.endswith((".py", ".pyw")))
    return found


def mask_line(line: str, rule_id: str) -> tuple[str, list[str]]:
    """The line with secret values replaced by ``***``, and the values removed (to mask the message too)."""
    removed: list[str] = []

    def hide(match: re.Match[str]) -> str:
        removed.append(match.group(0))
        return MASK

    masked = KEY_TOKEN.sub(hide, line)
    if rule_id in _SECRET_RULES:

        def hide_body(match: re.Match[str]) -> str:
            if match.group("body"):
                removed.append(match.group("body"))
            return f"{match.group('prefix')}{match.group('quote')}{MASK}{match.group('quote')}"

        masked = _STRING.sub(hide_body, masked)
    return masked, removed


def mask_message(message: str, removed: list[str], rule_id: str) -> str:
    for value in sorted(removed, key=len, reverse=True):
        if len(value) >= 4 and value != MASK:  # shorter values would mangle the message, not hide anything
            message = message.replace(value, MASK)
    message = KEY_TOKEN.sub(MASK, message)
    if rule_id in _SECRET_RULES:  # bandit quotes the password: "Possible hardcoded password: 'hunter2'"
        message = re.sub(r"'[^']*'$", f"'{MASK}'", message)
    return " ".join(message.split())


class _Errors(logging.Handler):
    """Collects bandit's error log lines: a plugin that raised on a file is reported only there."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            text = record.getMessage()
            self.lines.append(text.splitlines()[0] if text else "error")


def _missing_plugins(extensions: Any) -> list[str]:
    return [r.id for r in RULES if r.id not in extensions.plugins_by_id]


class StaticScanner(Scanner):
    name = "static"

    def scan(self, root: Path, options: ScanOptions) -> ScannerResult:
        from bandit.core import config as b_config  # type: ignore[import-untyped]
        from bandit.core import extension_loader
        from bandit.core import manager as b_manager

        result = ScannerResult(scanner=self.name)
        missing = _missing_plugins(extension_loader.MANAGER)
        if missing:
            result.problems.append(
                f"AICO bandit plugins not registered ({', '.join(missing)}): reinstall aico-secure"
            )
        files = python_files(root)
        if not files:
            return result
        errors = _Errors()
        bandit_log = logging.getLogger("bandit")
        bandit_log.addHandler(errors)
        deadline = time.monotonic() + options.timeout_seconds
        manager = b_manager.BanditManager(b_config.BanditConfig(), "file", quiet=True)
        try:
            for start in range(0, len(files), _BATCH):
                if time.monotonic() > deadline:
                    result.problems.append(
                        f"timed out after {options.timeout_seconds:g}s: {len(files) - start} file(s) not scanned"
                    )
                    break
                # bandit's run_tests() works through files_list and leaves there the files it parsed
                manager.files_list = [str(f) for f in files[start:start + _BATCH]]
                manager.run_tests()
                result.items_scanned += len(manager.files_list)
        finally:
            bandit_log.removeHandler(errors)
        for fname, reason in manager.skipped:
            result.problems.append(f"{_relative(root, fname)}: not scanned ({reason})")
        result.problems.extend(f"bandit: {line}" for line in dict.fromkeys(errors.lines))
        sources: dict[str, list[str]] = {}
        findings = (_finding(root, i, sources) for i in manager.results)
        result.findings.extend(
            sorted((f for f in findings if not _test_assert(f)), key=lambda f: (f.path, f.line, f.rule_id))
        )
        return result


def _test_assert(finding: Finding) -> bool:
    """B101 (assert used) in a pytest file: asserts are how those are written, and they never ship."""
    name = finding.path.rsplit("/", 1)[-1]
    return finding.rule_id == "B101" and (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    )


def _relative(root: Path, fname: str) -> str:
    try:
        return Path(fname).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(fname).as_posix()


def _finding(root: Path, found: Any, sources: dict[str, list[str]]) -> Finding:
    rule_id: str = found.test_id
    lineno = int(found.lineno or 0)
    if found.fname not in sources:
        try:
            sources[found.fname] = Path(found.fname).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            sources[found.fname] = []
    lines = sources[found.fname]
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    snippet, removed = mask_line(line.strip(), rule_id)
    ours = BY_ID.get(rule_id)
    cwe = int(found.cwe.id) if found.cwe is not None and found.cwe.id else None
    return Finding(
        rule_id=rule_id,
        scanner="static",
        requirement=requirement_for(rule_id),
        severity=ours.severity if ours else _SEVERITY.get(found.severity, Severity.MEDIUM),
        confidence=ours.confidence if ours else _CONFIDENCE.get(found.confidence, Confidence.MEDIUM),
        path=_relative(root, found.fname),
        line=lineno,
        message=mask_message(str(found.text), removed, rule_id),
        cwe=cwe if cwe is not None else (ours.cwe if ours else None),
        snippet=snippet,
    )
