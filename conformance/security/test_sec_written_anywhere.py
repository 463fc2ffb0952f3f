"""AICO-SEC-001 wherever the build writes: the canary workload under the suite's write watch, then the inspector
over every file the build wrote during it, in the data directory or not (a per-user cache under ``$HOME``, a
debug dump under ``$TMPDIR``, an ``XDG_*`` state file, a temp file removed a moment later).

The data directory's own scan is ``test_sec_workload.py``; this one adds every other place, and reports a
write that left both the data directory and the suite's directories, since nothing there can be read back
with certainty (see ``aico_secure.conform.writes``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.conform import writes
from aico_secure.inspector.workload import run_workload
from aico_secure.target import CapabilityMissing, Target


@pytest.mark.requirement("AICO-SEC-001")
def test_canary_workload_leaves_nothing_readable_anywhere_it_wrote(aico_target: Target, tmp_path: Path,
                                                                   fast_kdf: bool,
                                                                   evidence: Callable[[str, object], None]) -> None:
    data = tmp_path / "aico-data"
    with writes.watch_writes(data) as watch:
        try:
            run = run_workload(aico_target, data, fast_kdf=fast_kdf)
        except BaseException:
            writes.discard(watch)
            raise
    try:
        assert not watch.errors, f"the write watch failed: {watch.errors[:3]}"
        scan = writes.scan_written(watch, canaries=run.canaries, vectors=run.vectors,
                                   secrets={name: key.reveal() for name, key in run.keys})
        evidence("files written and scanned", scan.result.files_read)
        evidence("outside the data directory", sorted({str(f.path) for f in scan.files if f.where != "given"})[:20])
        assert scan.result.files_read > 0, "the workload wrote no file: nothing was checked"
        assert not scan.result.findings, "readable in a file the build wrote: " + "; ".join(scan.findings()[:8])
        assert not scan.result.unreadable, f"files the build wrote could not be inspected: " \
                                           f"{scan.result.unreadable[:5]}"
        outside = watch.outside()
        assert not outside, "written outside the data directory and the suite's $HOME, $TMPDIR and XDG " \
                            f"directories: {[str(p) for p in outside[:6]]}"
    finally:
        writes.discard(watch)
    if run.not_implemented:
        raise CapabilityMissing(f"the canary workload could not drive: {', '.join(run.not_implemented)}")
