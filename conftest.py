"""Project-wide pytest set-up: Hypothesis profiles and where the Wycheproof vectors are.

Hypothesis profiles: ``dev`` (fast feedback), ``ci`` (more examples, no deadline), ``nightly`` (long), defined
once in ``aico_secure.conform.hypothesis_profiles`` (the conformance suite ships without this file, so the
pytest plugin registers them too). Choose with ``AICO_HYPOTHESIS_PROFILE``; ``dev.py test`` picks ``ci`` when
``CI`` is set. Loaded here, at import, so the checkout's own tests default to ``dev``: the plugin keeps a profile
that was already chosen. The example database lives under the aico-secure cache directory
(``$AICO_SECURE_CACHE_DIR``, else the user cache), not in ``.hypothesis/`` of the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aico_secure.config import cache
from aico_secure.conform import hypothesis_profiles

hypothesis_profiles.activate("dev", cache.resolve())

# Vendored with their licence (vectors/wycheproof/README.md), so a fresh clone needs nothing beside it.
DEFAULT_WYCHEPROOF = Path(__file__).resolve().parent / "vectors" / "wycheproof"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--wycheproof-root", default=os.environ.get("AICO_WYCHEPROOF_ROOT", str(DEFAULT_WYCHEPROOF)),
                     help="folder of Wycheproof JSON vectors (default: the vendored vectors/wycheproof)")
