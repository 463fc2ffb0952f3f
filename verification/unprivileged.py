"""Run a child process as root that cannot read through file modes, for probes of unreadable files.

Why not run the child as ``nobody``: the checkout (and so the interpreter of its virtual environment) may sit in
a directory only root can enter, a fresh clone under ``mktemp -d`` for one, and then the child cannot even
start. Dropping the two capabilities that let root read and search through mode bits from the child's bounding
set before it executes its program gives the same refusal (``EACCES`` on a mode-0 file) while everything root
owns stays reachable.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _drop_read_through_capabilities() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "cannot drop a capability for an unreadable-file probe")


def without_read_through() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess``: the capability drop when running as root, else nothing (an ordinary
    user cannot read a mode-0 file anyway)."""
    return _drop_read_through_capabilities if os.geteuid() == 0 else None
