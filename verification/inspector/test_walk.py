"""Which files are read: hidden ones yes, symlinks and special files never."""

from __future__ import annotations

import os
from pathlib import Path

from verification.inspector.conftest import Inspect


def test_hidden_files_and_directories_are_read(tmp_path: Path, inspect: Inspect, canary: str) -> None:
    (tmp_path / ".cache" / ".journal").mkdir(parents=True)
    (tmp_path / ".cache" / ".journal" / ".wal").write_text(canary)
    (tmp_path / "-shm").write_bytes(b"\0" * 100)
    result = inspect(canaries=[canary])
    assert [Path(f.path).name for f in result.findings] == [".wal"]
    assert result.files_read == 2


def test_symlinks_are_not_followed_out_of_the_directory(tmp_path: Path, inspect: Inspect, canary: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(canary)
    data = tmp_path / "data"
    data.mkdir()
    (data / "store.bin").write_bytes(os.urandom(100))
    (data / "link.txt").symlink_to(outside / "secret.txt")
    (data / "linkdir").symlink_to(outside, target_is_directory=True)
    result = inspect(data, canaries=[canary])
    assert result.clean and result.files_read == 1
    assert sorted(Path(p).name for p in result.skipped) == ["link.txt", "linkdir"]


def test_a_fifo_is_skipped_not_read(tmp_path: Path, inspect: Inspect, canary: str) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "a.bin").write_bytes(os.urandom(10))
    result = inspect(canaries=[canary])
    assert result.files_read == 1 and [Path(p).name for p in result.skipped] == ["pipe"]
