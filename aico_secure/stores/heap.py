"""Keep old heap contents out of files that engines write from uninitialised memory, only while they allocate.

Why: Chroma's HNSW persistence writes memory the index allocated but never initialised to its files
(``length.bin``, ``data_level0.bin``). Those bytes are whatever the process's heap held before: in our tests,
sealed documents and blinded ids of items deleted earlier, and in principle any plaintext the process had
handled. glibc's ``M_PERTURB`` makes ``malloc`` fill every new allocation with a fixed byte (and ``free`` wipe
what it releases), so uninitialised memory holds that byte instead of old data.

Why scoped: the fill happens when memory is *allocated*, so it only has to be on while the engine allocates the
memory it will persist. Chroma does that inside its own calls (creating, loading and growing an index during
writes, queries, opening and closing), never on a background thread after a call returned. Turned on for the
whole process, every allocation of the host program would pay a memset forever after the first open.
``perturbed_heap`` is reference counted, so nested and concurrent users share one switch: on at the first
entry, off at the last exit.

Limits (glibc's, not ours): a small block (up to 1032 bytes) goes through the thread's cache (tcache), which is
neither filled at malloc nor wiped at free, and ``realloc`` growing a block in place does not fill the new tail;
old data can show there whether perturbation is scoped or process-wide (docs/performance.md, "Heap
hardening"). Chroma's own threads only run inside its calls. It is a no-op where glibc is not the allocator.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

M_PERTURB = -6
PERTURB_BYTE = 0x5A
_P = ParamSpec("_P")
_R = TypeVar("_R")


class _Switch:
    """How many callers are inside ``perturbed_heap`` (all threads): glibc's setting is one per process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0


_switch = _Switch()


@contextmanager
def perturbed_heap() -> Iterator[bool]:
    """Malloc perturbation on for the duration of the block; yields whether it is on (False without glibc)."""
    mallopt = _mallopt()
    if mallopt is None:
        yield False
        return
    with _switch.lock:
        on = _switch.depth > 0 or bool(mallopt(M_PERTURB, PERTURB_BYTE))
        if on:
            _switch.depth += 1
    if not on:
        yield False
        return
    try:
        yield True
    finally:
        with _switch.lock:
            _switch.depth -= 1
            if not _switch.depth:
                mallopt(M_PERTURB, 0)


def perturbing(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """``function`` run inside ``perturbed_heap``: for the methods of a store that call its engine."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with perturbed_heap():
            return function(*args, **kwargs)

    return wrapper


def heap_perturbed() -> bool:
    """Whether some caller is inside ``perturbed_heap`` right now (so new allocations are being filled)."""
    with _switch.lock:
        return _switch.depth > 0


@functools.cache
def _mallopt() -> Callable[[int, int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    result: Callable[[int, int], int] = mallopt
    return result
