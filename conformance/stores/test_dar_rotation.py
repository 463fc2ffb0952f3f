"""AICO-DAR-008: per-store data-key rotation, master-key rotation and password change leave every store readable
with the current password only, and master rotation and password change re-encrypt no stored data (the
store's files are byte-for-byte unchanged by them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.conform.checks import snapshot
from aico_secure.target import KeysCapability, KeySession, RejectedCredentials, StoreCapability

from ._support import Workload, mismatches, open_store, write
from .conftest import per_store


@per_store("AICO-DAR-008")
def test_data_key_rotation_keeps_everything_readable(store: StoreCapability, store_dir: Path,
                                                     key_session: KeySession,
                                                     evidence: Callable[[str, object], None]) -> None:
    workload = Workload()
    opened = open_store(store, key_session, store_dir)
    try:
        write(opened, workload, count=5, tag="r0")
        material = set(key_session.secret_material().values())
        opened.rotate_data_key()
        rotated = set(key_session.secret_material().values())
        write(opened, workload, count=5, tag="r1")
        assert not mismatches(opened, workload), "data unreadable right after data-key rotation"
    finally:
        opened.close()
    assert rotated - material, "rotate_data_key() produced no new key material: nothing was rotated"
    opened = open_store(store, key_session, store_dir)
    try:
        assert not mismatches(opened, workload), "data unreadable after rotation and reopening"
        opened.rotate_data_key()
        write(opened, workload, count=3, tag="r2")
    finally:
        opened.close()
    opened = open_store(store, key_session, store_dir)
    try:
        assert not mismatches(opened, workload), "data unreadable after a second rotation"
    finally:
        opened.close()
    evidence("records across 3 data keys", len(workload.records) + len(workload.items))


@per_store("AICO-DAR-008")
def test_master_rotation_and_password_change_touch_no_data(store: StoreCapability, store_dir: Path, tmp_path: Path,
                                                           keys: KeysCapability, key_session: KeySession,
                                                           password: str,
                                                           evidence: Callable[[str, object], None]) -> None:
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
    assert snapshot(store_dir) == before, "master-key rotation rewrote the store's files"
    new_password = password + "-changed"
    key_session.change_password(password, new_password)
    assert snapshot(store_dir) == before, "a password change rewrote the store's files"
    key_session.close()
    evidence("store files unchanged by rotation and password change", len(before))

    with pytest.raises(RejectedCredentials):
        keys.unlock(tmp_path / "keys", password)
    session = keys.unlock(tmp_path / "keys", new_password)
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
