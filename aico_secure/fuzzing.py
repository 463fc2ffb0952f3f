"""``aico-secure fuzz``: run the Atheris harnesses of ``fuzz/`` as bounded campaigns.

Each harness runs in its own process (libFuzzer owns the process and exits on the first finding). A campaign
always stops by itself: ``--runs`` and ``--max-time`` must be at least 1 (libFuzzer reads ``-runs=-1`` and
``-max_total_time=0`` as "forever"), a campaign given neither stops after ``DEFAULT_MAX_TIME`` seconds, and a
harness still running ``HANG_GRACE`` seconds past its time bound is killed and reported as a finding (a hang).
Crashing inputs are kept under ``fuzz/crashes/<name>/`` for reproduction.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent.parent / "fuzz"
DEFAULT_MAX_TIME = 600  # seconds, for a campaign given neither --runs nor --max-time
HANG_GRACE = 60  # seconds past --max-time before a harness that ignores its bound is killed
MAX_BOUND = 2**31 - 1  # libFuzzer reads -runs and -max_total_time as C ints: larger wraps to "forever"


class FuzzError(Exception):
    """Atheris missing, unknown harness, or no harness folder (e.g. running from a wheel)."""


@dataclass(frozen=True)
class Campaign:
    harness: str
    runs: int | None = None
    max_time: int | None = None
    corpus: Path | None = None


def harnesses() -> dict[str, Path]:
    if not FUZZ_DIR.is_dir():
        raise FuzzError(f"no fuzz harnesses at {FUZZ_DIR}: fuzzing runs from a source checkout")
    return {p.stem.removeprefix("fuzz_"): p for p in sorted(FUZZ_DIR.glob("fuzz_*.py"))}


def bounds(campaign: Campaign) -> tuple[int | None, int | None]:
    """``(runs, max_time)`` of a campaign that always ends: each given bound at least 1, a default time if none."""
    for option, value in (("--runs", campaign.runs), ("--max-time", campaign.max_time)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= MAX_BOUND):
            raise FuzzError(f"{option} must be a whole number from 1 to {MAX_BOUND}, got {value!r}")
    if campaign.runs is None and campaign.max_time is None:
        return None, DEFAULT_MAX_TIME
    return campaign.runs, campaign.max_time


def command(campaign: Campaign) -> list[str]:
    if importlib.util.find_spec("atheris") is None:
        raise FuzzError("atheris is not installed (pip install 'aico-secure[dev]')")
    found = harnesses()
    if campaign.harness not in found:
        raise FuzzError(f"unknown harness {campaign.harness!r}; available: {', '.join(found)}")
    runs, max_time = bounds(campaign)
    crashes = FUZZ_DIR / "crashes" / campaign.harness
    cmd = [sys.executable, str(found[campaign.harness]), f"-artifact_prefix={crashes}/"]
    if runs is not None:
        cmd.append(f"-runs={runs}")
    if max_time is not None:
        cmd.append(f"-max_total_time={max_time}")
    folders = [crashes]
    if campaign.corpus is not None:
        folders.append(campaign.corpus)
        cmd.append(str(campaign.corpus))
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FuzzError(f"cannot create {folder}: {exc.strerror or exc}") from None
    return cmd


def run(campaign: Campaign) -> int:
    """0 when the campaign ended with no finding, 1 when the harness found a crash, raised, or hung past its
    time bound (then it and anything it started are killed)."""
    cmd = command(campaign)
    _, max_time = bounds(campaign)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        code = proc.wait(timeout=None if max_time is None else max_time + HANG_GRACE)
    except subprocess.TimeoutExpired:
        print(f"aico-secure fuzz: harness {campaign.harness!r} still running {HANG_GRACE} s after its "
              f"{max_time} s bound: killed, reported as a finding (hang)", file=sys.stderr)
        code = -signal.SIGKILL
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    return 0 if code == 0 else 1
