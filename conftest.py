"""Project-wide pytest set-up: Hypothesis profiles and where the Wycheproof vectors are.

Hypothesis profiles: ``dev`` (fast feedback), ``ci`` (more examples, no deadline), ``nightly`` (long). Choose
with ``AICO_HYPOTHESIS_PROFILE``; ``dev.py test`` picks ``ci`` when ``CI`` is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=5000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("AICO_HYPOTHESIS_PROFILE", "dev"))

# Vendored with their licence (vectors/wycheproof/README.md), so a fresh clone needs nothing beside it.
DEFAULT_WYCHEPROOF = Path(__file__).resolve().parent / "vectors" / "wycheproof"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--wycheproof-root", default=os.environ.get("AICO_WYCHEPROOF_ROOT", str(DEFAULT_WYCHEPROOF)),
                     help="folder of Wycheproof JSON vectors (default: the vendored vectors/wycheproof)")
