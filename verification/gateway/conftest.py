"""Fixtures for the gateway's unit tests: a test-profile keyring and a manual clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aico_secure.keys import Keyring, UnlockedKeyring


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def keyring(tmp_path: Path) -> Iterator[UnlockedKeyring]:
    yield Keyring.create(Keyring.path_in(tmp_path / "keys"), "pw-for-gateway-unit-tests", profile="test")


@pytest.fixture
def clock() -> Clock:
    return Clock()
