"""AICO-KM-001 measured, not declared: one unlock of a production keyring really spends the KDF memory the keyring
declares.

``describe_kdf`` is the build's own statement; a build whose keyring says "Argon2id, m=64 MiB" but whose KDF call
drops the memory parameter (or is PBKDF2 under an Argon2id label) passes every check that reads the
declaration. What the build cannot talk its way around is the memory its process touches: Argon2 with ``m`` KiB
fills ``m`` KiB, and that block comes fresh from the kernel (glibc serves it with ``mmap``; the child runs with a
fixed 128 KiB mmap threshold so this holds for any size), so it shows as new resident memory.

The peak is measured in a fresh child process that loads the same target (as the crash scans do): the build's
imports and a warm-up unlock of a cheap keyring happen first, then the peak is reset (``/proc/self/clear_refs``)
and exactly one ``unlock`` runs. The rise of the peak (``VmHWM``) must reach 90 % of the declared memory, less
256 KiB for each thread that may touch it (the kernel counts a thread's resident pages in batches of up to 64,
so that much of a small allocation can be missing from the peak it reports).

``getrusage``'s ``ru_maxrss`` is no use for this: Linux carries a process's peak across ``fork`` and ``exec``, so
the child starts with the peak of the suite process that just created the production keyring, and one unlock
cannot raise it. And the KDF must run in the process that calls ``unlock``: a build that derives in another
process (an agent, a daemon) cannot be measured this way and fails this check.

The salt size a keyring declares is not checked here: where the salt sits in the keyring's files is the build's
own format, and nothing outside the build can tell a 16-byte salt from 8 salt bytes next to 8 other bytes.

Run as a script (``python test_km_kdf_actual.py TARGET_SPEC KEYRING_DIR``, the password on stdin) this file is
the child: it prints one line ``MEASURED {...}`` with the figures in KiB, or ``UNMEASURABLE reason``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.conform.plugin import target_spec
from aico_secure.target import KeysCapability

MARKER = "MEASURED "
UNMEASURABLE = "UNMEASURABLE "
SHARE = 0.9  # of the declared memory that must show up as new peak resident memory
UNCOUNTED_PER_THREAD_KIB = 256  # 64 pages a thread may have touched before the kernel adds them to the RSS
MAX_THREADS = 16  # the slack stops growing here, whatever parallelism a keyring declares
MMAP_THRESHOLD = 128 * 1024  # bytes
CHILD_TIMEOUT = 600  # seconds: a production create (with calibration) plus two unlocks, on a loaded machine


def _status_kib(field: str) -> int:
    """``VmHWM`` / ``VmRSS`` of this process, in KiB (Linux ``/proc/self/status``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"/proc/self/status has no {field}")


def _reset_peak() -> None:
    """Make the peak-RSS mark equal to the current RSS (Linux 4.0+), so the warm-up's own peak cannot hide the
    one being measured."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def child(spec: str, directory: Path, password: str) -> str:
    """Load the build, warm it up, then measure one unlock of ``directory``; the line to print."""
    import gc
    import tempfile

    from aico_secure.target import load_target

    target = load_target(spec)
    keys = target.keys
    if keys is None:
        return UNMEASURABLE + "the target has no keys capability"
    keys.describe_kdf(directory)
    with tempfile.TemporaryDirectory(prefix="aico-kdf-warmup-") as scratch:
        # Everything unlock imports or caches on first use is loaded before the measurement starts.
        keys.create(Path(scratch) / "warm", password, fast_kdf=True).close()
        keys.unlock(Path(scratch) / "warm", password).close()
    gc.collect()
    try:
        _reset_peak()
        before_peak, before_rss = _status_kib("VmHWM"), _status_kib("VmRSS")
    except OSError as exc:
        return UNMEASURABLE + f"cannot reset or read this process's peak resident memory ({exc})"
    session = keys.unlock(directory, password)
    after_peak = _status_kib("VmHWM")
    session.close()
    return MARKER + json.dumps({"before_peak": before_peak, "before_rss": before_rss, "after_peak": after_peak})


def measure_unlock(spec: str, directory: Path, password: str) -> dict[str, int]:
    """Run the child on ``directory``; fails (never passes) when the measurement could not be made."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), *sys.path]),
               # Every block from 128 KiB up comes from mmap, so a KDF's memory shows as new RSS whatever its size
               # (glibc's own threshold floats up to 32 MiB and could hand a smaller block back from the heap).
               MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), spec, str(directory)], input=password,
                          capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT, check=False)
    lines = proc.stdout.splitlines()
    unmeasurable = [line for line in lines if line.startswith(UNMEASURABLE)]
    assert not unmeasurable, f"the KDF's memory could not be measured: {unmeasurable[-1][len(UNMEASURABLE):]}"
    found = [line for line in lines if line.startswith(MARKER)]
    assert proc.returncode == 0 and found, (
        f"the measuring child failed (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")
    figures: dict[str, int] = json.loads(found[-1][len(MARKER):])
    return figures


@pytest.mark.requirement("AICO-KM-001")
def test_unlock_spends_the_kdf_memory_the_keyring_declares(keys: KeysCapability, tmp_path: Path, password: str,
                                                           request: pytest.FixtureRequest,
                                                           evidence: Callable[[str, object], None]) -> None:
    spec = target_spec(request.config)
    assert spec, "no --aico-target: the KDF cannot be measured in a child process that loads the build"
    keys.create(tmp_path / "keys", password, fast_kdf=False).close()
    report = keys.describe_kdf(tmp_path / "keys")
    assert report.memory_kib > 0, f"the keyring declares {report.memory_kib} KiB of KDF memory"
    threads = min(max(report.parallelism, 1), MAX_THREADS) + 1  # the lanes and the calling thread
    required = SHARE * report.memory_kib - threads * UNCOUNTED_PER_THREAD_KIB
    assert required > 0, (f"the keyring declares m={report.memory_kib} KiB, too little to tell from the process's "
                          "resident memory whether the KDF uses it")
    figures = measure_unlock(spec, tmp_path / "keys", password)
    increase = figures["after_peak"] - figures["before_peak"]
    evidence("declared KDF", f"{report.algorithm} t={report.time_cost} m={report.memory_kib}KiB p={report.parallelism}")
    evidence("peak RSS rise during one unlock", f"{increase} KiB (at least {required:.0f} KiB required)")
    assert increase >= required, (
        f"one unlock raised the process's peak resident memory by {increase} KiB, but the keyring declares "
        f"{report.algorithm} with m={report.memory_kib} KiB: the KDF does not use the memory it declares")


if __name__ == "__main__":
    print(child(sys.argv[1], Path(sys.argv[2]), sys.stdin.read()), flush=True)
