"""Shared set-up of the audit verification tests: one test keyring per module (cheap KDF), log keys from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.keys import Keyring, UnlockedKeyring

PASSWORD = "verification-password"


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> UnlockedKeyring:
    root = tmp_path_factory.mktemp("keys")
    return Keyring.create(Keyring.path_in(root), PASSWORD, profile="test")


@pytest.fixture(scope="module")
def log_keys(keyring: UnlockedKeyring) -> KeyringLogKeys:
    return KeyringLogKeys(keyring)


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    return tmp_path / "audit"
