"""Load a build from ``package.module:factory``."""

from __future__ import annotations

import importlib
import re

from aico_secure.target.contract import Target

_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class TargetLoadError(Exception):
    """The target spec is malformed, or its factory failed or returned something that is not a Target."""


def load_target(spec: str) -> Target:
    if not _SPEC.match(spec or ""):
        raise TargetLoadError(f"target must look like package.module:factory, got {spec!r}")
    module_name, attr = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetLoadError(f"cannot import {module_name!r}: {exc}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise TargetLoadError(f"{module_name!r} has no callable {attr!r}")
    target = factory()
    if not isinstance(target, Target):
        raise TargetLoadError(f"{spec} returned {type(target).__name__}, not aico_secure.target.Target")
    return target
