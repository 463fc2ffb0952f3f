"""``aico-secure fuzz``: run the Atheris harnesses of ``fuzz/`` as bounded campaigns.

Each harness runs in its own process (libFuzzer owns the process and exits on the first finding). A campaign
is bounded by ``--runs`` and/or ``--max-time`` so it always stops by itself; crashing inputs are kept under
``fuzz/crashes/<name>/`` for reproduction.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent.parent / "fuzz"


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


def command(campaign: Campaign) -> list[str]:
    if importlib.util.find_spec("atheris") is None:
        raise FuzzError("atheris is not installed (pip install 'aico-secure[dev]')")
    found = harnesses()
    if campaign.harness not in found:
        raise FuzzError(f"unknown harness {campaign.harness!r}; available: {', '.join(found)}")
    if campaign.runs is None and campaign.max_time is None:
        raise FuzzError("a campaign needs --runs or --max-time so it stops by itself")
    crashes = FUZZ_DIR / "crashes" / campaign.harness
    crashes.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(found[campaign.harness]), f"-artifact_prefix={crashes}/"]
    if campaign.runs is not None:
        cmd.append(f"-runs={campaign.runs}")
    if campaign.max_time is not None:
        cmd.append(f"-max_total_time={campaign.max_time}")
    if campaign.corpus is not None:
        campaign.corpus.mkdir(parents=True, exist_ok=True)
        cmd.append(str(campaign.corpus))
    return cmd


def run(campaign: Campaign) -> int:
    """0 when the campaign ended with no finding, 1 when the harness found a crash or raised."""
    proc = subprocess.run(command(campaign), check=False, stdin=subprocess.DEVNULL)
    return 0 if proc.returncode == 0 else 1
