"""Lockout state at rest: failure counts and locks survive a restart, are on disk before a failure is answered,
and a damaged, swapped or missing lockout file is refused rather than read as "no failures"."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.errors import GatewayStateError
from aico_secure.gateway.lockouts import LOCKOUT_FILE, LockoutRollbackError, LockoutStore
from aico_secure.gateway.ratelimit import AuthGuard
from aico_secure.gateway.revocation import REVOKED_FILE
from aico_secure.gateway.sealed import SealedJson
from aico_secure.gateway.state import open_state
from aico_secure.keys import UnlockedKeyring

from .conftest import Clock

CONFIG = GatewayConfig(identity_failure_threshold=5, address_failure_threshold=20)


def _guard(keyring: UnlockedKeyring, directory: Path, clock: Clock) -> AuthGuard:
    return AuthGuard(CONFIG, clock, store=open_state(keyring, directory, clock).lockouts)


def test_four_of_five_then_restart_then_one_more_locks(keyring: UnlockedKeyring, tmp_path: Path,
                                                       clock: Clock) -> None:
    guard = _guard(keyring, tmp_path, clock)
    for _ in range(4):
        assert guard.failed("alice", "127.0.0.1") == {}
    restarted = _guard(keyring, tmp_path, clock)
    assert restarted.failed("alice", "127.0.0.1") == {"identity": CONFIG.lockout_base_seconds}
    again = _guard(keyring, tmp_path, clock)
    assert again.retry_after("alice", "127.0.0.1") == CONFIG.lockout_base_seconds, "the lock did not survive"
    clock.advance(CONFIG.lockout_base_seconds)
    assert _guard(keyring, tmp_path, clock).retry_after("alice", "127.0.0.1") == 0, "the lock must end on time"


def test_failure_is_on_disk_before_it_is_answered(keyring: UnlockedKeyring, tmp_path: Path, clock: Clock) -> None:
    state = open_state(keyring, tmp_path, clock)
    guard = AuthGuard(CONFIG, clock, store=state.lockouts)
    guard.failed("bob", "10.0.0.7")
    stored = state.lockouts.load()
    assert stored["identity"]["bob"][0] == 1 and stored["address"]["ip:10.0.0.7"][0] == 1


def test_success_clears_the_identity_on_disk_but_not_the_address(keyring: UnlockedKeyring, tmp_path: Path,
                                                                 clock: Clock) -> None:
    guard = _guard(keyring, tmp_path, clock)
    guard.failed("carol", "10.0.0.8")
    guard.succeeded("carol")
    stored = open_state(keyring, tmp_path, clock).lockouts.load()
    assert "carol" not in stored["identity"] and stored["address"]["ip:10.0.0.8"][0] == 1


def test_lockout_file_holds_no_names_in_clear(keyring: UnlockedKeyring, tmp_path: Path, clock: Clock) -> None:
    _guard(keyring, tmp_path, clock).failed("secret-user-name", "10.9.8.7")
    raw = (tmp_path / LOCKOUT_FILE).read_bytes()
    assert b"secret-user-name" not in raw and b"10.9.8.7" not in raw


def test_missing_damaged_or_swapped_lockout_file_is_refused(keyring: UnlockedKeyring, tmp_path: Path,
                                                            clock: Clock) -> None:
    _guard(keyring, tmp_path, clock).failed("dave", "10.0.0.9")
    lockouts = tmp_path / LOCKOUT_FILE
    good = lockouts.read_bytes()
    lockouts.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(GatewayStateError):
        _guard(keyring, tmp_path, clock)
    lockouts.write_bytes((tmp_path / REVOKED_FILE).read_bytes())
    with pytest.raises(GatewayStateError):
        _guard(keyring, tmp_path, clock)
    lockouts.unlink()
    with pytest.raises(GatewayStateError, match="incomplete"):
        open_state(keyring, tmp_path, clock)


def test_older_copy_of_the_lockout_file_is_refused(keyring: UnlockedKeyring, tmp_path: Path, clock: Clock) -> None:
    """Restoring the file from before the failures would give the guesses back: the keyring's anchor refuses it."""
    _guard(keyring, tmp_path, clock)
    lockouts = tmp_path / LOCKOUT_FILE
    before = lockouts.read_bytes()
    guard = _guard(keyring, tmp_path, clock)
    for _ in range(5):
        guard.failed("erin", "10.0.0.10")
    lockouts.write_bytes(before)
    with pytest.raises(LockoutRollbackError):
        _guard(keyring, tmp_path, clock)


VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
ANY_JSON = st.recursive(VALUES, lambda inner: st.lists(inner, max_size=5)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=5), max_leaves=20)
RECORDS = st.dictionaries(st.text(max_size=8), st.lists(st.integers(-2, 2) | st.floats() | st.booleans(),
                                                        min_size=3, max_size=5) | ANY_JSON, max_size=4)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one file, rewritten per example
@given(identity=RECORDS | ANY_JSON, address=RECORDS | ANY_JSON)
def test_malformed_lockout_documents_are_refused_not_misread(keyring: UnlockedKeyring, tmp_path: Path,
                                                             identity: object, address: object) -> None:
    """Whatever authenticates but is not the lockout document's shape is refused (never read as no failures);
    whatever loads holds only non-negative counts and finite times."""
    store = LockoutStore(keyring, tmp_path)
    store.create()
    sealed = SealedJson(keyring, tmp_path / LOCKOUT_FILE, "lockouts")
    store_id = store.counter_name.rsplit(":", 1)[1]
    sealed.save({"identity": identity, "address": address, "generation": 10**6, "store_id": store_id})
    try:
        tables = LockoutStore(keyring, tmp_path).load()
    except GatewayStateError:
        return
    assert set(tables) == {"identity", "address"}
    for table in tables.values():
        for failures, lockouts, locked_until, last_failure in table.values():
            assert failures >= 0 and lockouts >= 0
            assert math.isfinite(locked_until) and math.isfinite(last_failure)
    json.dumps(tables)
