"""AICO-DAR-008: per-store data-key rotation, master-key rotation and password change leave every store readable
with the current password only, and master rotation and password change re-encrypt no stored data (the
store's files are byte-for-byte unchanged by them).

One test per property, on shared set-ups: a store that still opens with the old password after a change is
also checked for whether its data reads with the new one, and a rotation that makes no new key is also
checked for whether the data survived it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from aico_secure.conform.checks import snapshot
from aico_secure.target import KeysCapability, KeySession, RejectedCredentials, StoreCapability

from ._support import Workload, mismatches, open_store, write
from .conftest import per_store


@dataclass
class DataKeyRotated:
    """A store written to under three data keys (two rotations through the store, one reopen between)."""

    workload: Workload
    new_material: bool  # whether the first rotation made key material the keyring did not have
    wrong_at_once: list[str]  # records wrong right after the first rotation, in the same open store
    wrong_after_reopen: list[str]  # records wrong after reopening, before the second rotation


@pytest.fixture
def data_key_rotated(store: StoreCapability, store_dir: Path, key_session: KeySession) -> DataKeyRotated:
    workload = Workload()
    opened = open_store(store, key_session, store_dir)
    try:
        write(opened, workload, count=5, tag="r0")
        material = set(key_session.secret_material().values())
        opened.rotate_data_key()
        rotated = set(key_session.secret_material().values())
        write(opened, workload, count=5, tag="r1")
        wrong_at_once = mismatches(opened, workload)
    finally:
        opened.close()
    opened = open_store(store, key_session, store_dir)
    try:
        wrong_after_reopen = mismatches(opened, workload)
        opened.rotate_data_key()
        write(opened, workload, count=3, tag="r2")
    finally:
        opened.close()
    return DataKeyRotated(workload, bool(rotated - material), wrong_at_once, wrong_after_reopen)


@per_store("AICO-DAR-008")
def test_data_key_rotation_makes_a_new_key(data_key_rotated: DataKeyRotated) -> None:
    assert data_key_rotated.new_material, "rotate_data_key() produced no new key material: nothing was rotated"


@per_store("AICO-DAR-008")
def test_data_key_rotation_keeps_everything_readable(store: StoreCapability, store_dir: Path,
                                                     key_session: KeySession, data_key_rotated: DataKeyRotated,
                                                     evidence: Callable[[str, object], None]) -> None:
    workload = data_key_rotated.workload
    assert not data_key_rotated.wrong_at_once, "data unreadable right after data-key rotation"
    assert not data_key_rotated.wrong_after_reopen, "data unreadable after rotation and reopening"
    opened = open_store(store, key_session, store_dir)
    try:
        assert not mismatches(opened, workload), "data unreadable after a second rotation"
    finally:
        opened.close()
    evidence("records across 3 data keys", len(workload.records) + len(workload.items))


@dataclass
class PasswordChanged:
    """A store written to around a master rotation made while it was open; then, with it closed, a master rotation
    and a password change, with the store's files fingerprinted before each."""

    workload: Workload
    before: dict[str, str]
    after_rotation: dict[str, str]
    after_change: dict[str, str]
    new_password: str


@pytest.fixture
def password_changed(store: StoreCapability, store_dir: Path, key_session: KeySession,
                     password: str) -> PasswordChanged:
    workload = Workload()
    opened = open_store(store, key_session, store_dir)
    try:
        write(opened, workload, count=6, tag="m0")
        key_session.rotate_master(password)  # while the store is open: it must carry on
        write(opened, workload, count=3, tag="m1")
    finally:
        opened.close()
    before = snapshot(store_dir)
    key_session.rotate_master(password)
    after_rotation = snapshot(store_dir)
    new_password = password + " changed 8"
    key_session.change_password(password, new_password)
    after_change = snapshot(store_dir)
    key_session.close()
    return PasswordChanged(workload, before, after_rotation, after_change, new_password)


@per_store("AICO-DAR-008")
def test_master_rotation_touches_no_data(password_changed: PasswordChanged,
                                         evidence: Callable[[str, object], None]) -> None:
    evidence("store files", len(password_changed.before))
    assert password_changed.after_rotation == password_changed.before, "master-key rotation rewrote the store's files"


@per_store("AICO-DAR-008")
def test_password_change_touches_no_data(password_changed: PasswordChanged) -> None:
    assert password_changed.after_change == password_changed.after_rotation, (
        "a password change rewrote the store's files")


@per_store("AICO-DAR-008")
def test_password_change_refuses_the_old_password(keys: KeysCapability, tmp_path: Path,
                                                  password_changed: PasswordChanged, password: str) -> None:
    with pytest.raises(RejectedCredentials):
        keys.unlock(tmp_path / "keys", password).close()


@per_store("AICO-DAR-008")
def test_store_reads_and_writes_with_the_new_password(store: StoreCapability, store_dir: Path, tmp_path: Path,
                                                      keys: KeysCapability,
                                                      password_changed: PasswordChanged) -> None:
    workload = password_changed.workload
    session = keys.unlock(tmp_path / "keys", password_changed.new_password)
    try:
        opened = open_store(store, session, store_dir)
        try:
            assert not mismatches(opened, workload), "data unreadable with the new password"
            write(opened, workload, count=2, tag="m2")
        finally:
            opened.close()
        opened = open_store(store, session, store_dir)
        try:
            assert not mismatches(opened, workload), "data written after the password change is unreadable"
        finally:
            opened.close()
    finally:
        session.close()
