"""Which files an inspection reads: every regular file under the root, hidden ones included.

Symlinks are never followed (a link could lead out of the directory, or loop), and special files (FIFOs,
sockets, devices) are never opened: reading a FIFO would block forever. Both are reported as skipped, so an
auditor sees them. Files are opened with ``O_NOFOLLOW`` and checked with ``fstat`` after opening, so a file
swapped for a link between listing and opening is refused too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

Notify = Callable[[Path, str], None]
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


def iter_files(root: Path, *, skipped: Notify | None = None, failed: Notify | None = None) -> Iterator[Path]:
    """Regular files under ``root`` in a stable order; ``skipped`` hears of links and special files, ``failed``
    of directories that could not be listed."""
    stack = [Path(root)]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if failed:
                failed(directory, f"cannot list directory: {exc.strerror or type(exc).__name__}")
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    if skipped:
                        skipped(path, "symlink (not followed)")
                elif entry.is_dir(follow_symlinks=False):
                    subdirs.append(path)
                elif entry.is_file(follow_symlinks=False):
                    yield path
                elif skipped:
                    skipped(path, "special file (not opened)")
            except OSError as exc:
                if failed:
                    failed(path, f"cannot stat: {exc.strerror or type(exc).__name__}")
        stack.extend(reversed(subdirs))


def open_regular(path: Path) -> int:
    """A read-only descriptor for ``path`` if it is still a regular file; ``OSError`` otherwise."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is no longer a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd
