"""Fixture factories for the suite's area conftests, so each capability is fetched and type-checked the same
way everywhere: ``bus = capability_fixture("bus", BusCapability)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aico_secure.target import Target


def capability_fixture(capability: str, protocol: type[Any], *, name: str | None = None) -> Callable[..., Any]:
    """A fixture returning ``target.require(capability)`` (so a missing capability is "not implemented"),
    asserting it implements ``protocol``. Its fixture name is ``name`` or ``capability``."""

    @pytest.fixture(name=name or capability)
    def fixture(aico_target: Target) -> Any:
        found = aico_target.require(capability)
        assert isinstance(found, protocol), f"target.{capability} does not implement {protocol.__name__}"
        return found

    return fixture
