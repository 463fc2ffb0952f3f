"""Crash-safe replacement and creation of a small file: temp file, fsync, rename (or link), fsync of the directory.

After a crash at any instant the path holds either the complete old content or the complete new content. A
write that fails (disk full, file-size limit, permissions) removes its temp file and leaves the path as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    """The complete, fsynced content in a fresh temp file beside ``path`` (``O_EXCL``: never an existing file)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    tmp = Path(name)
    try:
        try:
            os.fchmod(fd, mode)  # umask must not widen or narrow what we asked for
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable. Filesystems that cannot fsync a directory say so with EINVAL: nothing to do."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(dir_fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` all at once."""
    tmp = _write_temp(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def atomic_create(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Create ``path`` with ``data`` all at once; ``FileExistsError`` if anything (even a dangling link) is there.

    The complete file is hard-linked into place, so the existence check and the creation are one atomic step
    (two racing creators cannot both succeed) and no reader ever sees a half-written file. On a filesystem
    without hard links, an ``O_EXCL`` create written in place keeps the no-overwrite guarantee.
    """
    tmp = _write_temp(path, data, mode)
    try:
        try:
            os.link(tmp, path, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                raise
            _create_in_place(path, data, mode)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_directory(path.parent)


def _create_in_place(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
