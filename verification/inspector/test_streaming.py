"""Bounded-memory streaming: matches across window boundaries, no duplicates from the overlap, flat memory."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from aico_secure.inspector import Limits, inspect_tree
from aico_secure.inspector.windows import chunk_windows, file_windows

SMALL = Limits(window_bytes=4096)


@pytest.mark.parametrize("where", [4096 - 5, 4096, 8192 - 1, 3 * 4096 + 7])
def test_canary_straddling_a_window_boundary_is_found_once(tmp_path: Path, canary: str, where: int) -> None:
    data = bytearray(os.urandom(5 * 4096))
    raw = canary.encode()
    data[where:where + len(raw)] = raw
    (tmp_path / "big.bin").write_bytes(bytes(data))
    result = inspect_tree(tmp_path, canaries=[canary], limits=SMALL)
    utf8 = [f for f in result.findings if f.encoding == "utf-8"]
    assert [f.offset for f in utf8] == [where]
    assert result.bytes_read == len(data)


def test_canary_at_the_very_end_and_start(tmp_path: Path, canary: str) -> None:
    raw = canary.encode()
    (tmp_path / "edges.bin").write_bytes(raw + os.urandom(3 * 4096) + raw)
    result = inspect_tree(tmp_path, canaries=[canary], limits=SMALL)
    assert sorted(f.offset for f in result.findings if f.encoding == "utf-8") == [0, len(raw) + 3 * 4096]


def test_windows_cover_every_byte_exactly_once(tmp_path: Path) -> None:
    data = os.urandom(10_000)
    path = tmp_path / "f"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        seen = b"".join(bytes(w.data[w.fresh:]) for w in file_windows(fd, 1000, 37))
    finally:
        os.close(fd)
    assert seen == data
    chunks = [data[i:i + 333] for i in range(0, len(data), 333)]
    assert b"".join(bytes(w.data[w.fresh:]) for w in chunk_windows(chunks, 37)) == data


def test_memory_stays_bounded_on_a_large_file(tmp_path: Path, canary: str) -> None:
    size = 48 << 20
    with (tmp_path / "large.bin").open("wb") as fh:
        block = os.urandom(1 << 20)
        for i in range(size >> 20):
            fh.write(block if i != 40 else block[:1000] + canary.encode() + block[1000 + len(canary.encode()):])
    tracemalloc.start()
    try:
        result = inspect_tree(tmp_path, canaries=[canary], limits=Limits(window_bytes=1 << 20))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.bytes_read == size
    assert any(f.offset == 40 * (1 << 20) + 1000 for f in result.findings)
    assert peak < 16 << 20, f"peak traced memory {peak} for a {size}-byte file"
