"""Unlocking: wrong passwords (KM-002), password change (KM-008), damaged keyrings (KM-009), file mode (KM-010)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aico_secure.conform.checks import flip_byte, snapshot
from aico_secure.target import IntegrityViolation, KeysCapability, KeySession, RejectedCredentials


@pytest.mark.requirement("AICO-KM-002")
@pytest.mark.parametrize("wrong", ["", "x", "completely-different-password", "{password}x", "{password_upper}"])
def test_wrong_password_is_rejected_and_changes_nothing(keys: KeysCapability, key_session: KeySession,
                                                        tmp_path: Path, password: str, wrong: str) -> None:
    sealed = key_session.seal("libsql", b"r1", b"record before the attempt")
    key_session.close()
    keydir = tmp_path / "keys"
    before = snapshot(keydir)
    attempt = wrong.format(password=password, password_upper=password.upper())
    if attempt == password:
        attempt += "!"
    with pytest.raises(RejectedCredentials) as caught:
        keys.unlock(keydir, attempt)
    # A leak check needs a string that can't occur by chance: a one-letter attempt ("x") is in many a file path.
    assert password not in str(caught.value)
    assert len(attempt) < 8 or attempt not in str(caught.value)
    assert snapshot(keydir) == before, "a failed unlock modified the keyring"
    session = keys.unlock(keydir, password)
    assert session.open("libsql", b"r1", sealed) == b"record before the attempt"


@pytest.mark.requirement("AICO-KM-008")
def test_password_change_opens_with_new_password_only(keys: KeysCapability, key_session: KeySession,
                                                      tmp_path: Path, password: str) -> None:
    sealed = {p: key_session.seal(p, b"k", p.encode() * 3) for p in ("libsql", "rocksdb", "audit")}
    key_session.change_password(password, password + "-new")
    key_session.close()
    with pytest.raises(RejectedCredentials):
        keys.unlock(tmp_path / "keys", password)
    session = keys.unlock(tmp_path / "keys", password + "-new")
    for purpose, blob in sealed.items():
        assert session.open(purpose, b"k", blob) == purpose.encode() * 3


@pytest.mark.requirement("AICO-KM-008", "AICO-KM-002")
def test_password_change_with_wrong_current_password_is_refused(keys: KeysCapability, key_session: KeySession,
                                                                tmp_path: Path, password: str) -> None:
    before = snapshot(tmp_path / "keys")
    with pytest.raises(RejectedCredentials):
        key_session.change_password(password + "-wrong", "attacker-choice")
    assert snapshot(tmp_path / "keys") == before
    key_session.close()
    with pytest.raises(RejectedCredentials):
        keys.unlock(tmp_path / "keys", "attacker-choice")
    keys.unlock(tmp_path / "keys", password).close()


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate-half":
        path.write_bytes(data[: len(data) // 2])
    elif how == "truncate-one":
        path.write_bytes(data[:-1] if not data.endswith(b"\n") else data[:-2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif how == "extend":
        path.write_bytes(data + b"\x00garbage")
    elif how.startswith("flip@"):
        flip_byte(path, int(len(data) * float(how[5:])))


@pytest.mark.requirement("AICO-KM-009")
@pytest.mark.parametrize("how", ["truncate-half", "truncate-one", "empty", "garbage", "extend",
                                 "flip@0.1", "flip@0.3", "flip@0.5", "flip@0.7", "flip@0.9"])
def test_damaged_keyring_is_refused_and_left_as_it_was(keys: KeysCapability, key_session: KeySession,
                                                       tmp_path: Path, password: str, how: str) -> None:
    key_session.seal("libsql", b"k", b"v")
    key_session.rotate_data_key("libsql")
    key_session.close()
    keydir = tmp_path / "keys"
    files = keys.keyring_files(keydir)
    assert files, "the build names no keyring files"
    for target_file in files:
        original = target_file.read_bytes()
        _damage(target_file, how)
        damaged = snapshot(keydir)
        with pytest.raises((IntegrityViolation, RejectedCredentials)):
            keys.unlock(keydir, password).close()
        assert snapshot(keydir) == damaged, "a refused keyring was overwritten"
        target_file.write_bytes(original)
    keys.unlock(keydir, password).close()


@pytest.mark.requirement("AICO-KM-010")
def test_keyring_files_are_owner_only(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                      password: str) -> None:
    key_session.rotate_data_key("libsql")
    key_session.change_password(password, password + "2")
    key_session.close()
    for path in keys.keyring_files(tmp_path / "keys"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.name} has mode {oct(mode)}"
