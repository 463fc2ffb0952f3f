"""``aico-secure fuzz``: run the Atheris harnesses of ``fuzz/`` as bounded campaigns.

Each harness runs in its own process (libFuzzer owns the process and exits on the first finding). A campaign
always stops by itself: ``--runs`` and ``--max-time`` must be at least 1 (libFuzzer reads ``-runs=-1`` and
``-max_total_time=0`` as "forever"), a campaign given neither stops after ``DEFAULT_MAX_TIME`` seconds, and a
harness still running ``HANG_GRACE`` seconds past its time bound is killed and reported as a finding (a hang).
Crashing inputs are kept under ``fuzz/crashes/<name>/`` for reproduction. With ``--output`` the campaign also
leaves a JSON result document (``RESULT_SCHEMA``) that ``aico-secure report merge`` turns into findings, so a
fuzzing campaign is evidence in the same report as the conformance verdicts.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

FUZZ_DIR = Path(__file__).resolve().parent.parent / "fuzz"
DEFAULT_MAX_TIME = 600  # seconds, for a campaign given neither --runs nor --max-time
HANG_GRACE = 60  # seconds past --max-time before a harness that ignores its bound is killed
MAX_BOUND = 2**31 - 1  # libFuzzer reads -runs and -max_total_time as C ints: larger wraps to "forever"
RESULT_KIND = "aico-secure-fuzz/1"
# libFuzzer's artifact prefixes and what each means; "leak-" is a crash for our purpose (the harness broke),
# "slow-unit-" is only a slow input, not a finding.
ARTIFACT_KINDS = {"crash-": "crash", "leak-": "crash", "timeout-": "timeout", "oom-": "oom"}


class FuzzError(Exception):
    """Atheris missing, unknown harness, or no harness folder (e.g. running from a wheel)."""


@dataclass(frozen=True)
class Campaign:
    harness: str
    runs: int | None = None
    max_time: int | None = None
    corpus: Path | None = None
    output: Path | None = None  # where the JSON result document goes (none: no document)


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
    crashes = FUZZ_DIR / "crashes" / campaign.harness
    before = _artifact_names(crashes)
    started_at, clock = _now(), time.monotonic()
    killed = False
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        code = proc.wait(timeout=None if max_time is None else max_time + HANG_GRACE)
    except subprocess.TimeoutExpired:
        print(f"aico-secure fuzz: harness {campaign.harness!r} still running {HANG_GRACE} s after its "
              f"{max_time} s bound: killed, reported as a finding (hang)", file=sys.stderr)
        code, killed = -signal.SIGKILL, True
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    if campaign.output is not None:
        found = [crashes / name for name in sorted(_artifact_names(crashes) - before)]
        write_result(campaign.output, result_document(campaign, started_at=started_at,
                                                      elapsed=time.monotonic() - clock, exit_code=code,
                                                      killed=killed, artifacts=found))
    return 0 if code == 0 else 1


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _artifact_names(folder: Path) -> set[str]:
    try:
        return {p.name for p in folder.iterdir() if p.name.startswith(tuple(ARTIFACT_KINDS)) and p.is_file()}
    except OSError:
        return set()


def _artifact(path: Path) -> dict[str, Any]:
    kind = next(k for prefix, k in ARTIFACT_KINDS.items() if path.name.startswith(prefix))
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"kind": kind, "file": str(path), "sha256": digest, "size": path.stat().st_size}


def result_document(campaign: Campaign, *, started_at: str, elapsed: float, exit_code: int, killed: bool,
                    artifacts: list[Path]) -> dict[str, Any]:
    """What one campaign did: enough for a report to tell "ran its whole budget and found nothing" from "found
    something" from "never really ran" (a harness that failed to start exits non-zero without an artifact)."""
    from aico_secure import __version__

    runs, max_time = bounds(campaign)
    try:
        atheris = metadata.version("atheris")
    except metadata.PackageNotFoundError:
        atheris = "not installed"
    return {
        "schema": RESULT_KIND,
        "tool": {"name": "aico-secure fuzz", "version": __version__},
        "harness": campaign.harness,
        "runs": runs,
        "max_time": max_time,
        "started_at": started_at,
        "finished_at": _now(),
        "elapsed_s": round(elapsed, 3),
        "exit_code": exit_code,
        "killed": killed,
        "finished_budget": exit_code == 0 and not killed,
        "artifacts": [_artifact(p) for p in artifacts],
        "environment": {"python": f"{platform.python_implementation()} {sys.version.split()[0]}",
                        "platform": platform.platform(), "atheris": atheris},
    }


def write_result(path: Path, document: dict[str, Any]) -> None:
    """Validated, then written atomically: a consumer never reads half a result or one of another shape."""
    import jsonschema

    from aico_secure.conform.report_files import write_atomic

    jsonschema.validate(document, RESULT_SCHEMA)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(document, indent=2) + "\n")
    except OSError as exc:
        raise FuzzError(f"cannot write the fuzzing result {path}: {exc.strerror or exc}") from None


_COUNT = {"type": ["integer", "null"], "minimum": 1}
RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "aico-secure fuzz: the result of one campaign",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "tool", "harness", "runs", "max_time", "started_at", "finished_at", "elapsed_s",
                 "exit_code", "killed", "finished_budget", "artifacts", "environment"],
    "properties": {
        "schema": {"const": RESULT_KIND},
        "tool": {"type": "object", "additionalProperties": False, "required": ["name", "version"],
                 "properties": {"name": {"const": "aico-secure fuzz"}, "version": {"type": "string"}}},
        "harness": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
        "runs": _COUNT,
        "max_time": _COUNT,
        "started_at": {"type": "string"},
        "finished_at": {"type": "string"},
        "elapsed_s": {"type": "number", "minimum": 0},
        "exit_code": {"type": "integer", "description": "libFuzzer's exit code; negative: killed by that signal"},
        "killed": {"type": "boolean", "description": "still running past its time bound, killed (a hang)"},
        "finished_budget": {"type": "boolean", "description": "ran every input or second asked, no finding"},
        "artifacts": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["kind", "file", "sha256", "size"],
            "properties": {"kind": {"enum": ["crash", "timeout", "oom"]}, "file": {"type": "string"},
                           "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                           "size": {"type": "integer", "minimum": 0}}}},
        "environment": {"type": "object", "additionalProperties": False,
                        "required": ["python", "platform", "atheris"],
                        "properties": {"python": {"type": "string"}, "platform": {"type": "string"},
                                       "atheris": {"type": "string"}}},
    },
}
