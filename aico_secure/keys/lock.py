"""The keyring's update lock: one writer at a time, across processes and threads.

Every read-modify-write of a keyring (create, rotate, change the password, retire a key, advance a rollback
counter) holds an exclusive ``flock`` on a sidecar file ``.<keyring name>.lock`` next to the keyring. Readers
need no lock: the keyring is only ever replaced by an atomic rename, so a reader sees the old or the new file.

Why ``filelock`` rather than a hand-written ``fcntl.flock`` loop: it already solves the parts that are easy to get
wrong: a deadline while waiting (it polls a non-blocking flock), opening the lock file with ``O_NOFOLLOW`` and
``O_NONBLOCK`` (a planted symlink or FIFO cannot redirect or block it), a peer unlinking the lock inode between
open and flock, and per-thread re-entrancy. The CLI takes the lock around a whole command and the library
methods take it again inside; a singleton lock per path makes that nesting re-entrant in the same thread while
other threads and processes wait.

The soft (marker-file) fallback is disabled: a marker left by a killed process would block every later writer,
and a filesystem without ``flock`` is reported instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from aico_secure.errors import KeyringNotFoundError
from aico_secure.keys.display import shown
from aico_secure.keys.errors import KeyringBusyError, KeyringIOError

# Long enough for a production-profile change-password (three ~1 s Argon2id derivations) by another process;
# short enough that a stuck holder turns into a one-line error instead of a hang.
LOCK_TIMEOUT_SECONDS = 30.0


def lock_path(keyring_path: Path) -> Path:
    return keyring_path.with_name(f".{keyring_path.name}.lock")


@contextmanager
def keyring_lock(keyring_path: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold the update lock of ``keyring_path``; re-entrant within one thread."""
    where = os.path.abspath(lock_path(Path(keyring_path)))
    # filelock creates a missing parent directory; a keyring whose directory has gone (moved, unmounted) must be
    # refused, not answered with a new empty directory where it was.
    if not os.path.isdir(os.path.dirname(where)):
        raise KeyringNotFoundError(f"no keyring at {shown(keyring_path)} (its directory does not exist)")
    try:
        lock = filelock.FileLock(where, mode=0o600, is_singleton=True, fallback_to_soft=False)
        lock.acquire(timeout=timeout)
    except filelock.Timeout:
        raise KeyringBusyError(
            f"keyring {shown(keyring_path)} is being changed by another process (lock {shown(where)} held for more "
            f"than {timeout:g} s); nothing was changed"
        ) from None
    except (FileNotFoundError, NotADirectoryError):
        raise KeyringNotFoundError(f"no keyring at {shown(keyring_path)} (its directory does not exist)") from None
    except OSError as exc:
        raise KeyringIOError(f"cannot lock keyring {shown(keyring_path)}: {exc.strerror or exc}") from None
    try:
        yield
    finally:
        lock.release()
