"""Fixtures for the gateway's unit tests: a test-profile keyring and a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.keys import Keyring, UnlockedKeyring


@pytest.fixture
def keyring(tmp_path: Path) -> Iterator[UnlockedKeyring]:
    yield Keyring.create(Keyring.path_in(tmp_path / "keys"), "pw-for-gateway-unit-tests", profile="test")


@pytest.fixture
def clock() -> Clock:
    return Clock()
