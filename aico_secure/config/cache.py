"""Where aico-secure keeps cached state between runs: Hypothesis's example database, today.

Why not the current directory: ``aico-secure conform`` runs from a team's repository, and Hypothesis would leave
``.hypothesis/`` there. Why a cache directory and not a temporary one: the example database replays the
failures an earlier run found, which is the point of keeping it.

Order: ``--cache-dir`` (or the pytest plugin's ``--aico-cache-dir``), then ``$AICO_SECURE_CACHE_DIR``, then
``cache-dir`` in ``[tool.aico-secure]``, then the platform's user cache (``$XDG_CACHE_HOME/aico-secure``, else
``~/.cache/aico-secure``). The environment comes before the project file because it is how a CI job points every
project it builds at one cache it keeps between jobs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

ENV = "AICO_SECURE_CACHE_DIR"
_NAME = "aico-secure"


def platform_default() -> Path:
    """The XDG base-directory rule; a relative ``$XDG_CACHE_HOME`` is invalid by that spec and ignored."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / _NAME
    return Path.home() / ".cache" / _NAME


def from_environment() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value).absolute() if value else None


def resolve(given: str | Path | None = None) -> Path:
    """The cache directory for a run that was given ``given`` on its command line (None: not given); absolute,
    so a child process started elsewhere (an xdist worker, the conformance subprocess) finds the same one."""
    if given:
        return Path(given).absolute()
    return from_environment() or platform_default()


def export(path: Path) -> None:
    """Hand the resolved directory to child processes (the conformance run and its workers) through the
    environment: they resolve the same directory whatever their own ``HOME`` or ``XDG_CACHE_HOME`` become."""
    os.environ[ENV] = str(Path(path).absolute())


@contextlib.contextmanager
def exported(path: Path) -> Iterator[None]:
    """``export`` for the duration of a run, then the environment as it was (the command line can be called
    in-process, by tests and by tools that embed it)."""
    saved = os.environ.get(ENV)
    export(path)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = saved
