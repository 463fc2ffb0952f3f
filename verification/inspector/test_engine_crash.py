"""A DuckDB or Parquet file that crashes, hangs or confuses the engine makes that file unreadable, with a
one-line reason, and never stops the inspection: the engine runs in a child process (``_isolated``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from aico_secure.cli.main import main
from aico_secure.fuzz import files
from aico_secure.fuzz._harness.inspect_duckdb import with_checksums
from aico_secure.inspector import Limits, inspect_tree
from aico_secure.inspector._detector import _isolated

# A plaintext DuckDB file written by DuckDB with one byte changed: DuckDB 1.5.5 segfaults reading its last table.
SEGV_INPUT = files.regressions_dir("inspect_duckdb") / "adeb56463f5d204b"
CRASHED = re.compile(r"duckdb engine crashed reading this file \(signal \d+\)")


@pytest.fixture
def fresh_children() -> Iterator[None]:
    """Tests that change how children start must not reuse (or leave behind) a child started otherwise."""
    _isolated.shutdown()
    yield
    _isolated.shutdown()


def _parquet(path: Path, text: str) -> None:
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 'row ' || i || ' ' || ? AS note FROM range(100) r(i)) TO '{path}' "
                "(FORMAT parquet, COMPRESSION zstd)", [text])
    con.close()


def test_a_file_that_segfaults_duckdb_is_unreadable_and_the_rest_is_still_inspected(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    # The fuzzer's input gets its block checksums recomputed by the harness; the file on disk is that.
    (root / "analytics.duckdb").write_bytes(with_checksums(SEGV_INPUT.read_bytes()))
    _parquet(root / "export.parquet", "parquet-canary-after-the-crash")  # read after the crash: a new child
    (root / "notes.txt").write_text("a note: canary-beside-the-crash\n")
    done = subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "inspect", str(root), "--format", "json",
                           "--canary", "canary-beside-the-crash", "--canary", "parquet-canary-after-the-crash",
                           "--canary", "aico-fuzz-canary-plain"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    # Findings win over "incomplete" (exit 1, not 2): the file is a plaintext DuckDB database, and canaries are
    # found; the report is still marked incomplete, with the crash as the reason.
    assert done.returncode == 1, (done.returncode, done.stderr)
    report = json.loads(done.stdout)
    assert report["verdict"] == "findings" and report["complete"] is False
    [unreadable] = report["unreadable"]
    assert unreadable["file"] == "analytics.duckdb#duckdb" and CRASHED.fullmatch(unreadable["reason"]), unreadable
    found = {(f["file"], f["found"], f["container"]) for f in report["findings"]}
    assert ("notes.txt", "canary:canary-beside-the-crash", "text") in found
    assert ("export.parquet", "canary:parquet-canary-after-the-crash", "parquet:note") in found
    assert ("analytics.duckdb", "container:duckdb", "duckdb") in found
    # Tables read before the crash are scanned: their values reached the parent before the engine was called again.
    assert ("analytics.duckdb", "canary:aico-fuzz-canary-plain", "duckdb:main.notes.note") in found


def test_a_crash_with_nothing_found_is_an_incomplete_inspection_exit_2(tmp_path: Path, fresh_children: None,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _parquet(data / "export.parquet", "crash-canary")
    monkeypatch.setattr(_isolated, "BOOT", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    out = tmp_path / "report.json"
    assert main(["inspect", str(data), "--canary", "never-written-canary", "--format", "json", "--output",
                 str(out)]) == 2
    report = json.loads(out.read_text())
    assert report["verdict"] == "incomplete" and not report["findings"]
    [unreadable] = report["unreadable"]
    assert unreadable["file"] == "export.parquet#parquet" and CRASHED.fullmatch(unreadable["reason"]), unreadable


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie is dead, waiting for a parent to reap it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_child_that_hangs_past_the_time_budget_is_killed_with_its_process_group(
        tmp_path: Path, fresh_children: None, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _parquet(data / "export.parquet", "hang-canary")
    pid_file = tmp_path / "grandchild.pid"
    monkeypatch.setattr(_isolated, "BOOT", (
        "import subprocess, sys, time\n"
        "helper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(helper.pid))\n"
        "time.sleep(600)\n"))
    started = time.monotonic()
    result = inspect_tree(data, canaries=["hang-canary"], limits=Limits(file_seconds=2.0))
    assert time.monotonic() - started < 30
    [(where, reason)] = result.unreadable_reasons.items()
    assert where.endswith("export.parquet#parquet")
    assert reason.startswith("duckdb engine timed out reading this file"), reason
    grandchild = int(pid_file.read_text())
    for _ in range(50):  # SIGKILL is immediate; reaping an orphan may take the init process a moment
        if not _alive(grandchild):
            break
        time.sleep(0.1)
    assert not _alive(grandchild), "the child's process group was not killed"


def test_a_child_answering_garbage_makes_the_file_unreadable(tmp_path: Path, fresh_children: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _parquet(tmp_path / "export.parquet", "garbage-canary")
    monkeypatch.setattr(_isolated, "BOOT", "import os, time\nos.write(1, b'Zgarbage')\ntime.sleep(600)\n")
    result = inspect_tree(tmp_path, canaries=["garbage-canary"])
    [reason] = result.unreadable_reasons.values()
    assert reason.startswith("duckdb engine answered with malformed output"), reason
    assert "\n" not in reason


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_one_child_reads_every_file_and_is_reused_with_a_bounded_address_space(tmp_path: Path,
                                                                                fresh_children: None) -> None:
    for i in range(3):
        _parquet(tmp_path / f"export-{i}.parquet", f"reuse-canary-{i}")
    result = inspect_tree(tmp_path, canaries=[f"reuse-canary-{i}" for i in range(3)])
    assert {f.label for f in result.findings if f.container == "parquet:note"} == {
        f"canary:reuse-canary-{i}" for i in range(3)}
    [child] = _isolated._idle
    inspect_tree(tmp_path, canaries=["reuse-canary-0"])
    assert _isolated._idle == [child] and child.proc.poll() is None, "the idle child was not reused"
    limits = Path(f"/proc/{child.proc.pid}/limits").read_text()
    bound = str(_isolated.MEMORY_BOUND_MB << 20)
    assert re.search(rf"Max address space\s+{bound}\s+{bound}\s", limits), limits
    assert child.proc.pid != os.getpid()
