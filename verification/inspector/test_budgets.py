"""Budgets: work and memory stay proportional to the input. Hitting a budget makes the file "not fully
inspected" with the reason (exit 2), and what was found before is still reported."""

from __future__ import annotations

import gzip
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from aico_secure.cli.main import main
from aico_secure.inspector import Limits, inspect_tree
from verification.peak_memory import PEAK_KIB_SOURCE

SMALL = Limits(decode_cap=4 << 20, file_decode_bytes=16 << 20, run_decode_bytes=24 << 20, decode_ratio=1)


def _bombs(count: int, size: int) -> bytes:
    bomb = gzip.compress(b"\0" * size, compresslevel=9)
    return b"".join(bomb for _ in range(count))


def test_many_bombs_in_one_small_file_stop_at_the_file_budget(tmp_path: Path) -> None:
    (tmp_path / "bombs.bin").write_bytes(_bombs(200, 3 << 20))  # 600 MiB behind ~600 KiB of input
    started = time.monotonic()
    result = inspect_tree(tmp_path, canaries=["bomb-canary-x"], limits=SMALL)
    assert time.monotonic() - started < 20
    assert result.decoded_bytes <= SMALL.file_decode_bytes + SMALL.decode_chunk
    assert not result.clean
    reason = result.unreadable_reasons[str(tmp_path.resolve() / "bombs.bin")]
    assert reason.startswith("not fully inspected: per-file decode budget")


def test_the_run_budget_spans_files(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"f{i}.gz").write_bytes(_bombs(3, 3 << 20))  # 9 MiB each: within the file budget
    result = inspect_tree(tmp_path, canaries=["bomb-canary-x"], limits=SMALL)
    reasons = list(result.unreadable_reasons.values())
    assert any("per-run decode budget" in r for r in reasons), reasons
    assert result.decoded_bytes <= SMALL.run_decode_bytes + SMALL.decode_chunk


def test_findings_before_a_budget_are_kept_and_win_the_verdict(tmp_path: Path) -> None:
    canary = f"kept-canary-{secrets.token_hex(4)}"
    (tmp_path / "mixed.bin").write_bytes(canary.encode() + _bombs(200, 3 << 20) + canary.encode())
    result = inspect_tree(tmp_path, canaries=[canary], limits=SMALL)
    assert result.findings and result.unreadable
    out = tmp_path.parent / f"{tmp_path.name}-report.json"
    code = main(["inspect", str(tmp_path), "--canary", canary, "--format", "json", "--output", str(out)])
    report = json.loads(out.read_text())
    assert code == 1 and report["verdict"] == "findings" and report["complete"] is False
    assert report["findings"] and report["unreadable"]


def test_the_time_budgets(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(os.urandom(1000))
    (tmp_path / "b.bin").write_bytes(os.urandom(1000))
    per_file = inspect_tree(tmp_path, canaries=["time-canary-x"], limits=Limits(file_seconds=1e-9))
    assert all("per-file time budget" in r for r in per_file.unreadable_reasons.values())
    assert len(per_file.unreadable) == 2 and not per_file.clean
    per_run = inspect_tree(tmp_path, canaries=["time-canary-x"], limits=Limits(run_seconds=1e-9))
    assert len(per_run.unreadable) == 2 and not per_run.clean
    assert all("per-run time budget" in r for r in per_run.unreadable_reasons.values())


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_time_budget_options_are_validated(tmp_path: Path, value: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["inspect", str(tmp_path), "--canary", "abcdefgh", "--time-budget", value])
    assert exc.value.code == 2


# Growth of the child's own VmHWM (ru_maxrss would start at the pytest parent's size and hide the growth).
_PEAK = PEAK_KIB_SOURCE + textwrap.dedent("""
    import sys, time
    from aico_secure.inspector import inspect_tree
    import aico_secure.inspector.scan  # the decoders' imports are not part of the peak
    base = peak_kib()
    started = time.monotonic()
    canaries = [line for line in open(sys.argv[2]).read().splitlines() if line]
    result = inspect_tree(sys.argv[1], canaries=canaries)
    peak = peak_kib()
    print((peak - base) // 1024, round(time.monotonic() - started, 2), len(result.findings), len(result.unreadable))
""")


def _peak(root: Path, canaries: list[str], tmp_path: Path) -> tuple[int, float, int, int]:
    listing = tmp_path / "canaries.txt"
    listing.write_text("\n".join(canaries) + "\n")
    out = subprocess.run([sys.executable, "-c", _PEAK, str(root), str(listing)], capture_output=True, text=True,
                         timeout=300, check=True)
    grown, seconds, findings, unreadable = out.stdout.split()
    return int(grown), float(seconds), int(findings), int(unreadable)


def test_a_huge_sqlite_cell_is_streamed_not_loaded(tmp_path: Path) -> None:
    """80 MiB in one cell: reading it whole costs about twice that (SQLite's copy and Python's)."""
    root = tmp_path / "db"
    root.mkdir()
    canary = f"cell-canary-{secrets.token_hex(4)}"
    con = sqlite3.connect(root / "notes.db")
    con.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)")
    con.execute("INSERT INTO notes(body) VALUES (?)", ("x" * (80 << 20) + canary,))
    con.commit()
    con.close()
    grown, _seconds, findings, unreadable = _peak(root, [canary], tmp_path)
    assert findings >= 1 and unreadable == 0
    assert grown < 60, f"peak memory grew by {grown} MiB while scanning an 80 MiB cell"


def test_twenty_thousand_canaries_cost_linear_memory_and_time(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    canaries = [f"many-canary-{i:05d}-{secrets.token_hex(4)}" for i in range(20000)]
    (root / "blob.bin").write_bytes(os.urandom(2 << 20) + canaries[-1].encode() + os.urandom(1 << 20))
    grown, seconds, findings, unreadable = _peak(root, canaries + canaries[:5000], tmp_path)  # duplicates too
    assert findings == 1 and unreadable == 0
    assert grown < 600 and seconds < 60, (grown, seconds)
