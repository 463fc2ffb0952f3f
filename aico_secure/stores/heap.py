"""Keep old heap contents out of files that engines write from uninitialised memory.

Why: Chroma's HNSW persistence writes the index's whole allocated capacity to ``data_level0.bin``, including
slots that were never initialised. Those bytes are whatever the process's heap held before: in our tests,
sealed documents and blinded ids of items deleted earlier, and in principle any plaintext the process had
handled. glibc's ``M_PERTURB`` makes ``malloc`` fill every new allocation with a fixed byte and ``free`` wipe
what it releases, so uninitialised memory holds that byte instead of old data.

It is process-wide (every glibc allocation pays a memset) and a no-op where glibc is not the allocator. glibc
does not perturb blocks served from its per-thread cache (up to 1,032 bytes); only a process started with
``GLIBC_TUNABLES=glibc.malloc.tcache_count=0`` closes that gap (measured in docs/stores.md), and a tunable
cannot be set from inside the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

M_PERTURB = -6
PERTURB_BYTE = 0x5A
_lock = threading.Lock()
_state: dict[str, bool] = {}


def harden_heap() -> bool:
    """Turn on glibc malloc perturbation once per process; True when it is on."""
    with _lock:
        if "on" not in _state:
            _state["on"] = _enable()
        return _state["on"]


def _enable() -> bool:
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_PERTURB, PERTURB_BYTE))
