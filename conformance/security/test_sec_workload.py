"""AICO-SEC-001, encryption verification: a canary workload through every store, the audit trail, sealed
records and logs of the build, then the inspector over the whole data directory.

The workload (``aico_secure.inspector.workload``) only uses the target contract; the inspector looks for every
canary text, canary embedding and key it used, in every encoding and inside every container and compressed
stream it knows (SQLite, DuckDB, Parquet, RocksDB SST blocks, zlib/gzip/zstd/LZ4/snappy...). Capabilities the
build lacks make the requirement "not implemented", after the capabilities it has were checked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.inspector import inspect_tree
from aico_secure.inspector.workload import run_workload
from aico_secure.target import CapabilityMissing, Target


@pytest.mark.requirement("AICO-SEC-001")
def test_canary_workload_leaves_nothing_readable_on_disk(aico_target: Target, tmp_path: Path, fast_kdf: bool,
                                                         evidence: Callable[[str, object], None]) -> None:
    data = tmp_path / "aico-data"
    run = run_workload(aico_target, data, fast_kdf=fast_kdf)
    result = inspect_tree(data, canaries=run.canaries, vectors=run.vectors, keys=run.keys)
    evidence("capabilities driven", ", ".join(run.driven))
    evidence("files scanned", result.files_read)
    evidence("bytes scanned", result.bytes_read)
    evidence("decoded bytes scanned", result.decoded_bytes)
    evidence("needles", f"{len(run.canaries)} canaries, {len(run.vectors)} embeddings, {len(run.keys)} secrets")
    assert result.files_read > 0, "the workload left no file behind: nothing was checked"
    assert not result.findings, "readable at rest: " + "; ".join(
        f"{Path(f.path).relative_to(data)}@{f.offset} {f.label} as {f.encoding} in {f.container}"
        for f in result.findings[:8])
    assert not result.unreadable, f"parts of the data directory could not be inspected: {result.unreadable[:5]}"
    if run.not_implemented:
        raise CapabilityMissing(f"the canary workload could not drive: {', '.join(run.not_implemented)}")
