"""The Hypothesis profiles every property test here runs under, and the share of a profile each test takes.

Why in package code: the conformance suite ships in the wheel (``aico_secure/_suite``) without this checkout's
``conftest.py``, so the profiles are registered by the pytest plugin at configure time (and by ``conftest.py``
for the checkout's own tests). One registry means ``AICO_HYPOTHESIS_PROFILE=nightly`` reaches every test,
including the suite run by ``aico-secure conform`` from a team's repository.

Why a *share* (:func:`budget`) instead of a count: a hard-coded ``max_examples`` never grows with the nightly
profile. A test whose examples are expensive (an Argon2id derivation, an SRP login, a RocksDB open, a keyring
on disk) cannot afford the whole budget a profile gives cheap tests, so it states what fraction it takes: the
three shares below. Every profile then scales every test, and a test's relative cost is stated once, here.

Why a floor for conformance runs: a conformance verdict is a release gate. Outside the checkout (``aico-secure
conform``, ``pytest --aico-target``) the suite never runs below the ``ci`` profile, whatever profile is asked
for; a larger one (``nightly``) raises it. The checkout's own ``dev`` profile stays fast for developers, except
for the suite's tests that state their share (:func:`gate_budget`): they are the gate in every run, the mutation
runs that measure the suite's power included.

Why the example database moves: Hypothesis writes ``.hypothesis/`` into the current directory, which for
``aico-secure conform`` is a team's repository. :func:`register` puts it, and everything else Hypothesis
stores, under the aico-secure cache directory (``aico_secure.config.cache``).
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import InvalidArgument

ENV = "AICO_HYPOTHESIS_PROFILE"
EXAMPLES = {"dev": 30, "ci": 100, "nightly": 5000}
GATE_FLOOR = "ci"  # the least profile a conformance run outside the checkout uses

# The shares of a profile's budget (see the module docstring): what one example costs decides the share.
CHEAP = 1.0  # pure computation or in-memory work per example
DISK = 0.4  # a store, keyring or scanned file on disk per example
KDF = 0.1  # a deliberately slow derivation (Argon2id, SRP) per example

_HYPOTHESIS_DEFAULT = "default"  # the profile Hypothesis loads when nobody chose one
# Hypothesis also loads a built-in "ci" profile by itself when it sees a CI environment variable (CI=true on
# every hosted runner). That is not a choice anybody made here, so it must not stop a conformance run from
# taking its floor or the profile asked for; ``activate`` records the profiles really chosen.
_HYPOTHESIS_AUTOMATIC_CI = "ci"
_activated: list[str] = []


class ProfileError(ValueError):
    """``AICO_HYPOTHESIS_PROFILE`` names a profile nobody registered (a usage error, never a silent default)."""


def hypothesis_dir(cache_dir: Path) -> Path:
    return cache_dir / "hypothesis"


def register(cache_dir: Path) -> None:
    """(Re)register dev, ci and nightly with their example database, and Hypothesis's home (its other files:
    constants, observations, patches), under ``cache_dir/hypothesis``. Re-registering the active profile
    reloads it, so a cache directory given later (``--aico-cache-dir``) takes effect at once."""
    home = hypothesis_dir(cache_dir)
    set_hypothesis_home_dir(home)
    database = DirectoryBasedExampleDatabase(home / "examples")
    settings.register_profile("dev", max_examples=EXAMPLES["dev"], deadline=None, database=database)
    settings.register_profile("ci", max_examples=EXAMPLES["ci"], deadline=None, print_blob=True,
                              suppress_health_check=[HealthCheck.too_slow], database=database)
    settings.register_profile("nightly", max_examples=EXAMPLES["nightly"], deadline=None, print_blob=True,
                              suppress_health_check=[HealthCheck.too_slow], database=database)


def requested() -> str | None:
    return os.environ.get(ENV) or None


def chosen() -> bool:
    """Whether a profile was already chosen (by ``conftest.py`` or a team's own set-up): then it stands.
    Hypothesis's own default, and the "ci" profile it loads by itself on a CI runner, are not choices."""
    name = settings.get_current_profile_name()
    if name == _HYPOTHESIS_DEFAULT:
        return False
    return not (name == _HYPOTHESIS_AUTOMATIC_CI and not _activated)


def activate(default: str, cache_dir: Path, *, floor: str | None = None) -> str:
    """Register the profiles and load ``$AICO_HYPOTHESIS_PROFILE`` (else ``default``), raised to ``floor`` when
    that has more examples. Returns the loaded profile's name."""
    register(cache_dir)
    name = requested() or default
    try:
        wanted = settings.get_profile(name).max_examples
    except InvalidArgument:
        raise ProfileError(f"{ENV}={name!r}: unknown Hypothesis profile (known: {', '.join(EXAMPLES)})") from None
    if floor is not None and EXAMPLES[floor] > wanted:
        name = floor
    settings.load_profile(name)
    _activated.append(name)
    return name


def budget(share: float) -> int:
    """``max_examples`` for a test taking ``share`` of the active profile's budget (at least one example).
    Read when the test module is imported, which is after the profile is loaded at configure time."""
    return _share_of(settings().max_examples, share)  # settings(): the loaded profile's values


def gate_budget(share: float) -> int:
    """``budget`` for the conformance suite's own tests: never less than ``share`` of the ``ci`` profile, in
    this checkout's ``dev`` runs too (and so in the mutation runs, which judge the suite's power), because
    these tests are the release gate; ``nightly`` still raises them."""
    return max(budget(share), _share_of(EXAMPLES[GATE_FLOOR], share))


def _share_of(examples: int, share: float) -> int:
    if not 0 < share <= 1:
        raise ValueError(f"a share of the profile's budget is in (0, 1], not {share}")
    return max(1, round(examples * share))
