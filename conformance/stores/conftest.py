"""Fixtures for the data-at-rest tests: one store of the build, its directory, and a session to open it with.

Tests are parametrized over the four stores with ``per_store(...)``: each parameter carries the requirement
IDs it checks, so a store the build lacks is reported "not implemented" under that store's IDs only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import pytest

from aico_secure.target import StoreCapability, Target

from ._support import ALL_STORES, AT_REST


def per_store(*requirements: str, at_rest: bool = False, stores: Iterable[str] = ALL_STORES,
              scope: Literal["function", "module"] = "function") -> pytest.MarkDecorator:
    """``@per_store("AICO-DAR-005")``: run once per store, bound to the given IDs (plus the store's own at-rest
    requirement when ``at_rest``). ``scope="module"`` lets a module-scoped fixture build one set-up per store
    that the module's tests only read."""
    params = []
    for name in stores:
        ids = list(requirements) + ([AT_REST[name]] if at_rest else [])
        params.append(pytest.param(name, marks=pytest.mark.requirement(*ids), id=name))
    return pytest.mark.parametrize("store_name", params, scope=scope)


def store_capability(aico_target: Target, store_name: str) -> StoreCapability:
    """The build's store ``store_name`` (a missing one is "not implemented"), checked to be the right kind."""
    capability = aico_target.require(f"store:{store_name}")
    assert isinstance(capability, StoreCapability), f"target.stores[{store_name!r}] does not implement StoreCapability"
    assert capability.kind == ("vectors" if store_name == "chroma" else "records"), "wrong store kind"
    return capability


@pytest.fixture
def store(aico_target: Target, store_name: str) -> StoreCapability:
    return store_capability(aico_target, store_name)


@pytest.fixture
def store_dir(tmp_path: Path, store_name: str) -> Path:
    """The store's own directory, not created yet: the build creates it on first open."""
    return tmp_path / f"store-{store_name}"
