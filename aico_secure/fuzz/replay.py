"""Feeding stored inputs through a harness without libFuzzer: how CI keeps every corpus and regression file
passing, so a fixed bug cannot come back unnoticed.

Each input gets the harness's own time bound (a SIGALRM timer, so this runs on the main thread); a hang is a
failure like any other.
"""

from __future__ import annotations

import signal
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from aico_secure.fuzz.interface import Harness


class InputHang(Exception):
    """An input ran past the harness's per-input time bound."""


@dataclass(frozen=True)
class ReplayFailure:
    path: Path
    error: str  # one line: the exception type and message, and where it was raised

    def __str__(self) -> str:
        return f"{self.path.name}: {self.error}"


def inputs(folders: Iterable[Path]) -> Iterator[Path]:
    for folder in folders:
        if folder.is_dir():
            yield from sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise InputHang("input ran past the harness's time bound")


def replay(harness: Harness, files: Iterable[Path], *, timeout_s: float | None = None) -> list[ReplayFailure]:
    """Every file through ``harness.check``; the failures (anything but success or a documented refusal)."""
    bound = float(timeout_s if timeout_s is not None else harness.timeout_s)
    failures: list[ReplayFailure] = []
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    harness.setup()
    try:
        for path in files:
            data = path.read_bytes()
            signal.setitimer(signal.ITIMER_REAL, bound)
            try:
                harness.check(data)
            except Exception as exc:  # noqa: BLE001 - every other exception is exactly what replay reports
                where = traceback.extract_tb(exc.__traceback__)[-1]
                failures.append(ReplayFailure(path, f"{type(exc).__name__}: {str(exc)[:200]} "
                                                    f"({Path(where.filename).name}:{where.lineno})"))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
        harness.teardown()
    return failures
