"""Fixtures for the store internals tests: a test-profile keyring and a recording audit sink."""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.keys import Keyring, UnlockedKeyring


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)


@pytest.fixture
def keyring(tmp_path: Path) -> UnlockedKeyring:
    return Keyring.create(tmp_path / "keys" / "keyring.json", "store-test-password", profile="test")


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()
