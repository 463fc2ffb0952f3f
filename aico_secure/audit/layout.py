"""The files an audit log directory holds. One place, so the writer, the verifier and the adapter agree."""

from __future__ import annotations

from pathlib import Path

LOG_NAME = "audit.log"
CHECKPOINT_NAME = "audit.checkpoint"
LOCK_NAME = "audit.lock"


def log_path(directory: Path) -> Path:
    return Path(directory) / LOG_NAME


def checkpoint_path(directory: Path) -> Path:
    return Path(directory) / CHECKPOINT_NAME


def lock_path(directory: Path) -> Path:
    return Path(directory) / LOCK_NAME
