"""A keyring that disappears while unlocked (its directory moved away, unmounted, deleted by another program) is
a damaged keyring as far as a change is concerned (AICO-KM-009): the change is refused with the contract's
clear error, nothing is recreated where the keyring was (a fresh keyring there would hold new keys that open
none of the old data), and once the files are back everything opens as before with the same password.

Each kind of change is its own test: each reaches the files by its own path (a lock, a re-read, a rewrite).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.target import IntegrityViolation, KeysCapability, KeySession

CHANGES: dict[str, Callable[[KeySession, str], None]] = {
    "rotate-data-key": lambda session, password: session.rotate_data_key("libsql"),
    "rotate-kek": lambda session, password: session.rotate_kek("libsql"),
    "rotate-master": lambda session, password: session.rotate_master(password),
    "change-password": lambda session, password: session.change_password(password, password + "-Next-9"),
}


@pytest.mark.requirement("AICO-KM-009")
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_change_to_a_vanished_keyring_is_refused_and_recreates_nothing(
        keys: KeysCapability, key_session: KeySession, tmp_path: Path, password: str, change: str) -> None:
    sealed = key_session.seal("libsql", b"r1", b"written before the keyring went away")
    keydir = tmp_path / "keys"
    moved = tmp_path / "keys-moved-away"
    keydir.rename(moved)
    try:
        with pytest.raises(IntegrityViolation):
            CHANGES[change](key_session, password)
        assert not keydir.exists(), (
            f"{change} on a keyring whose directory is gone recreated {sorted(p.name for p in keydir.iterdir())}"
            if keydir.is_dir() else f"{change} on a keyring whose directory is gone created a file in its place")
    finally:
        key_session.close()
        if not keydir.exists():
            moved.rename(keydir)
    session = keys.unlock(keydir, password)
    try:
        assert session.open("libsql", b"r1", sealed) == b"written before the keyring went away"
    finally:
        session.close()
