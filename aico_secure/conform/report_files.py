"""Writing the conformance report files: all or nothing, and an OS error is one line, never a traceback.

Each file is written to a temporary name beside its final name and renamed into place, so a full disk, a file
size limit or a directory that turned read-only leaves no truncated report that looks like a verdict.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class ReportWriteError(Exception):
    """The report could not be written (one line: the directory and the OS's reason)."""


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_reports(report: Any, directory: Path, format_names: tuple[str, ...]) -> list[Path]:
    """Render ``report`` in every format and write them; on any failure remove what this call wrote."""
    from aico_secure.report import formats

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in format_names:
            fmt = formats.get(name)
            path = directory / f"conformance-{report.provenance.profile}-{stamp}{fmt.suffix}"
            write_atomic(path, fmt.render(report))
            written.append(path)
    except OSError as exc:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        shown = os.fsdecode(directory).encode("utf-8", "backslashreplace").decode("utf-8")
        raise ReportWriteError(f"cannot write the conformance report in {shown}: {exc.strerror or exc}") from None
    return written
