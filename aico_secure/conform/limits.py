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


def check_report_formats(text: str) -> tuple[str, ...]:
    from aico_secure.report.formats import FORMATS

    names = tuple(n.strip() for n in text.split(","))
    unknown = [n for n in names if n not in FORMATS]
    if not names or unknown:
        raise LimitError(f"unknown report format(s) {', '.join(repr(n) for n in unknown)}; "
                         f"choose from {', '.join(sorted(FORMATS))}")
    return tuple(dict.fromkeys(names))


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
