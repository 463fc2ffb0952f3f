"""Finding the harnesses: every module of ``_harness/`` that defines ``HARNESS``. They ship in the package, so
a campaign runs from an installed aico-secure as well as from a checkout."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from aico_secure.fuzz import _harness
from aico_secure.fuzz.interface import Harness


class UnknownHarness(LookupError):
    """No harness of that name (the message lists the available ones)."""


@lru_cache(maxsize=1)
def names() -> tuple[str, ...]:
    return tuple(sorted(m.name for m in pkgutil.iter_modules(_harness.__path__) if not m.name.startswith("_")))


def load(name: str) -> Harness:
    if name not in names():
        raise UnknownHarness(f"unknown harness {name!r}; available: {', '.join(names())}")
    module = importlib.import_module(f"aico_secure.fuzz._harness.{name}")
    harness = getattr(module, "HARNESS", None)
    if not isinstance(harness, Harness) or harness.name != name:
        raise UnknownHarness(f"harness module {name!r} does not define HARNESS = a Harness named {name!r}")
    return harness
