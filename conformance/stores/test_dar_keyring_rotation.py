"""Rotations made on the keyring, not through the store, leave every store readable (AICO-DAR-008: the store side
of AICO-KM-006 and AICO-KM-007).

A user's keyring serves every store: its data keys and key-encryption keys can be rotated through the key
session while a store is closed (a scheduled rotation, another component's doing). A store must then still
open and read back everything, whichever key its files are under; one that tries only the newest key, or
gives up at the first key that does not fit, has lost its data to a routine rotation. Each kind of rotation is
its own test, for every store, every purpose rotated (the contract does not say which purpose a store uses).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.target import ContractError, KeySession, StoreCapability

from ._support import Workload, mismatches, open_store, write
from .conftest import per_store

PURPOSES = ("libsql", "duckdb", "rocksdb", "chroma", "audit", "transport")


def _every_purpose(rotate: Callable[[str], None]) -> list[str]:
    done = []
    for purpose in PURPOSES:
        try:
            rotate(purpose)
        except ContractError:
            continue  # a purpose this build does not have
        done.append(purpose)
    return done


ROTATIONS: dict[str, Callable[[KeySession], list[str]]] = {
    "data-keys": lambda session: _every_purpose(session.rotate_data_key),
    "keks": lambda session: _every_purpose(session.rotate_kek),
}


@per_store("AICO-DAR-008")
@pytest.mark.parametrize("rotation", sorted(ROTATIONS))
def test_store_reads_back_after_keyring_rotation(store: StoreCapability, store_dir: Path, key_session: KeySession,
                                                 rotation: str) -> None:
    opened = open_store(store, key_session, store_dir)
    try:
        workload = write(opened, Workload(), count=12, tag="kr")
    finally:
        opened.close()
    rotated = ROTATIONS[rotation](key_session)
    assert rotated, f"positive control: the key session rotated the {rotation} of no purpose"
    for attempt in ("reopened", "reopened again after a write"):
        reopened = open_store(store, key_session, store_dir)
        try:
            wrong = mismatches(reopened, workload)
            assert not wrong, (f"{attempt} after the keyring's {rotation} of {rotated} were rotated, "
                               f"{len(wrong)} records are lost or changed: {wrong[:3]}")
            write(reopened, workload, count=3, tag=f"kr{len(workload.records) + len(workload.items)}")
        finally:
            reopened.close()
