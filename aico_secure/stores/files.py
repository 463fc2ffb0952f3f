"""Small crash-safe file operations the stores share."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_rename(source: Path, target: Path) -> None:
    """Durably replace ``target`` by ``source``: after a crash the name holds the old or the new file whole."""
    fsync_path(source)
    os.replace(source, target)
    fsync_path(target.parent)
