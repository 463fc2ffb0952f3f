"""Damaged or hostile containers never crash the inspector: every byte is still scanned, what cannot be decoded
is reported as not inspected (so the verdict is not clean), and the scan of other files goes on."""

from __future__ import annotations

import os
import shutil
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rocksdict import DBCompressionType, Options, Rdict

from aico_secure.conform.hypothesis_profiles import DISK, budget
from aico_secure.inspector import inspect_tree


@pytest.fixture(scope="module")
def sst_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    root = tmp_path_factory.mktemp("sst")
    options = Options()
    options.set_compression_type(DBCompressionType.lz4())
    db = Rdict(str(root / "db"), options)
    for i in range(500):
        db[f"k{i:04d}".encode()] = f"value {i} " .encode() * 20
    db.flush()
    db.close()
    return next((root / "db").glob("*.sst")).read_bytes()


@settings(max_examples=budget(DISK), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.floats(0.5, 1)))
def test_mutated_sst_files_never_crash_the_scan(tmp_path_factory: pytest.TempPathFactory, sst_bytes: bytes,
                                                edits: list[tuple[float, int]], cut: float | None) -> None:
    root = tmp_path_factory.mktemp("mut")
    data = bytearray(sst_bytes)
    for where, xor in edits:
        data[int(where * len(data))] ^= xor
    if cut is not None:
        data = data[: int(cut * len(data))] + sst_bytes[-8:]  # keep the magic so it is still parsed as an SST
    (root / "000001.sst").write_bytes(bytes(data))
    (root / "other.bin").write_bytes(b"canary-hostile-x")
    result = inspect_tree(root, canaries=["canary-hostile-x"])
    assert result.files_read == 2
    assert any(f.path.endswith("other.bin") for f in result.findings)
    shutil.rmtree(root)


@settings(max_examples=budget(DISK), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(min_size=0, max_size=2048), magic=st.sampled_from(
    [b"\x78\x9c", b"\x1f\x8b\x08", b"\x28\xb5\x2f\xfd", b"\x04\x22\x4d\x18", b"\xff\x06\x00\x00sNaPpY", b"BZh91AY&SY",
     b"\xfd7zXZ\x00", b"SQLite format 3\x00", b"PAR1", b"\x37\x8f\x24\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x04"]))
def test_fake_magic_followed_by_garbage(tmp_path_factory: pytest.TempPathFactory, blob: bytes, magic: bytes) -> None:
    root = tmp_path_factory.mktemp("magic")
    (root / "x.bin").write_bytes(magic + blob + (b"PAR1" if magic == b"PAR1" else b""))
    result = inspect_tree(root, canaries=["never-there-canary"])
    assert result.files_read == 1 and not result.findings
    shutil.rmtree(root)


def test_truncated_zlib_stream_is_scanned_as_far_as_it_goes(tmp_path: Path) -> None:
    stream = zlib.compress(b"header " * 100 + b"canary-in-truncated-stream " + os.urandom(5000))
    (tmp_path / "t.bin").write_bytes(stream[: len(stream) // 2])
    result = inspect_tree(tmp_path, canaries=["canary-in-truncated-stream"])
    assert any(f.container == "zlib@0" for f in result.findings)
