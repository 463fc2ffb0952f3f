"""A keyring that disappears while unlocked (its directory moved away, unmounted, deleted by another program) is
a damaged keyring as far as a change is concerned (AICO-KM-009): the change is refused with the contract's
clear error, nothing is recreated where the keyring was (a fresh keyring there would hold new keys that open
none of the old data), and once the files are back everything opens as before with the same password.

Each kind of change is its own test: each reaches the files by its own path (a lock, a re-read, a rewrite).
"""

from __future__ import annotations

import os
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


@pytest.mark.requirement("AICO-KM-009")
def test_change_with_a_side_file_blocked_is_refused_or_done(keys: KeysCapability, key_session: KeySession,
                                                            tmp_path: Path, password: str,
                                                            evidence: Callable[[str, object], None]) -> None:
    """The files a build keeps beside its keyring (locks, journals, backups) can be in the way too: one replaced
    by a directory (a restore gone wrong, another program's mkdir) makes a change either succeed or be refused
    with the contract's error, and the keyring opens as before afterwards."""
    keydir = tmp_path / "keys"
    key_session.rotate_data_key("libsql")  # whatever side files a change makes exist from here on
    sealed = key_session.seal("libsql", b"r1", b"written before the side file was blocked")
    listed = {Path(p).resolve() for p in keys.keyring_files(keydir)}
    side = sorted(p for p in keydir.iterdir() if p.is_file() and p.resolve() not in listed)
    evidence("side files blocked", [p.name for p in side])
    untyped: list[str] = []
    for path in side:
        kept = path.read_bytes()
        path.unlink()
        path.mkdir()
        try:
            key_session.rotate_data_key("libsql")
        except IntegrityViolation:
            pass
        except Exception as exc:  # noqa: BLE001 - the finding is exactly an error outside the contract
            untyped.append(f"{path.name}: {type(exc).__name__}")
        finally:
            path.rmdir()
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as restored:
                restored.write(kept)
    key_session.close()
    assert not untyped, f"a change with a side file blocked escaped the contract's errors: {untyped}"
    session = keys.unlock(keydir, password)
    try:
        assert session.open("libsql", b"r1", sealed) == b"written before the side file was blocked"
    finally:
        session.close()
