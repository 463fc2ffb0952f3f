"""The bounds and option checks of a conformance run, shared by the CLI, the runner and the pytest plugin.

Checked before anything runs, so a bad option costs well under a second instead of a whole run (an unknown
report format used to fail only after every test had run). Each check raises ``LimitError`` with one line.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

PROFILES = ("quick", "full", "release")
# Per-test timeout (seconds) when none is given: quick runs before a push; full/release include crash loops,
# load and production-cost KDF checks that legitimately take minutes.
DEFAULT_TEST_TIMEOUT = {"quick": 120.0, "full": 900.0, "release": 900.0}
MAX_TIMEOUT = 86400.0  # a day: anything longer is a typo, not a budget
MAX_WORKERS = 64  # each worker is a full pytest process holding a loaded build


class LimitError(ValueError):
    """An option is outside its bounds; the message is one line naming the option."""


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise LimitError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    return profile


def check_workers(workers: int) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise LimitError(f"--workers must be between 1 and {MAX_WORKERS}, got {workers!r}")
    return workers


def check_timeout(option: str, seconds: float) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) \
            or not 0 < seconds <= MAX_TIMEOUT:
        raise LimitError(f"{option} must be more than 0 and at most {MAX_TIMEOUT:g} seconds, got {seconds!r}")
    return float(seconds)


def parse_timeout(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LimitError(f"{option} must be a number of seconds, got {text!r}") from None
    return check_timeout(option, value)


def per_test_timeout(profile: str, given: float | None) -> float:
    return given if given is not None else DEFAULT_TEST_TIMEOUT[check_profile(profile)]


# What ``conform`` writes when no format is named: the auditor's files (JSON, Markdown, HTML) and the one CI
# test dashboards read (JUnit).
DEFAULT_FORMATS = ("json", "markdown", "html", "junit")


def default_formats() -> tuple[str, ...]:
    """``DEFAULT_FORMATS`` that the report registry knows in this installation, in order: checked when the
    run starts, so a default never names a format that cannot be written."""
    from aico_secure.report import formats

    return tuple(name for name in DEFAULT_FORMATS if name in formats.NAMES)


def check_report_formats(names: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Every named format must be in the report registry (``aico_secure.report.formats``); names are
    comma-separated text (the pytest option) or a sequence (the CLI's repeatable ``--format``). An alias and
    its format (``md``, ``markdown``) write one file."""
    from aico_secure.report import formats

    items = names.split(",") if isinstance(names, str) else list(names)
    stripped = tuple(n.strip() for n in items)
    unknown = [n for n in stripped if n not in formats.NAMES]
    if not stripped or unknown:
        raise LimitError(f"unknown report format(s) {', '.join(repr(n) for n in unknown)}; "
                         f"choose from {', '.join(formats.NAMES)}")
    return tuple(dict.fromkeys(formats.canonical(n) for n in stripped))


def check_requirements(ids: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Requirement IDs to run: each must be in the catalog (an unknown ID would select nothing and look like
    a clean partial run)."""
    from aico_secure.conform.catalog import default_catalog

    items = ids.split(",") if isinstance(ids, str) else list(ids)
    wanted = tuple(dict.fromkeys(i.strip() for i in items))
    catalog = default_catalog()
    unknown = [i for i in wanted if catalog.get(i) is None]
    if not wanted or unknown:
        raise LimitError(f"unknown requirement(s) {', '.join(repr(i) for i in unknown) or '(none given)'}; "
                         "see conformance/requirements.yaml")
    return wanted


def check_report_dir(path: Path) -> Path:
    """Create the report directory if needed and prove a file can be written in it (as root, permission bits
    say nothing: only a real write tells a read-only mount or a full disk)."""
    shown = os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")
    if path.exists() and not path.is_dir():
        raise LimitError(f"report directory {shown} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LimitError(f"cannot create report directory {shown}: {exc.strerror or exc}") from None
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".aico-write-test-") as probe:
            probe.write(b"x")
            probe.flush()
    except OSError as exc:
        raise LimitError(f"cannot write in report directory {shown}: {exc.strerror or exc}") from None
    return path
