"""Unlocking: wrong passwords (KM-002), password change (KM-008), damaged keyrings (KM-009), file mode (KM-010).

One test per property: a build that accepts a wrong password is still checked for whether the attempt changed
its keyring, and a build that keeps opening with the old password after a change is still checked for whether
the data opens with the new one. So a report names every defect a build has, not just the first one met.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aico_secure.conform.checks import flip_byte, snapshot
from aico_secure.conform.passphrases import passphrase
from aico_secure.target import IntegrityViolation, KeysCapability, KeySession, RejectedCredentials

from ._lifecycle import offered

WRONG = ["", "x", "completely-different-password", "{password}x", "{password_upper}"]
DAMAGE = ["truncate-half", "truncate-one", "empty", "garbage", "extend",
          "flip@0.1", "flip@0.3", "flip@0.5", "flip@0.7", "flip@0.9"]
PURPOSES = ("libsql", "rocksdb", "audit")


def _wrong_attempt(wrong: str, password: str) -> str:
    attempt = wrong.format(password=password, password_upper=password.upper())
    return attempt + "!" if attempt == password else attempt


def _try_unlock(keys: KeysCapability, keydir: Path, password: str) -> BaseException | None:
    """Unlock and close at once; whatever the attempt raised is returned, not raised, for tests whose property
    is what happens after an attempt (how a build refuses is another test's business)."""
    try:
        keys.unlock(keydir, password).close()
    except Exception as exc:  # noqa: BLE001 - the outcome is inspected by the caller, if at all
        return exc
    return None


@dataclass
class Sealed:
    """A keyring with a record sealed before the step under test, closed so only its files remain."""

    keydir: Path
    record: bytes


@pytest.fixture
def sealed_record(key_session: KeySession, tmp_path: Path) -> Sealed:
    sealed = key_session.seal("libsql", b"r1", b"record before the attempt")
    key_session.close()
    return Sealed(tmp_path / "keys", sealed)


# ---- KM-002: a wrong password --------------------------------------------------------------------------------
@pytest.mark.requirement("AICO-KM-002")
@pytest.mark.parametrize("wrong", WRONG)
def test_wrong_password_is_rejected(keys: KeysCapability, sealed_record: Sealed, password: str, wrong: str) -> None:
    with pytest.raises(RejectedCredentials):
        keys.unlock(sealed_record.keydir, _wrong_attempt(wrong, password))


@pytest.mark.requirement("AICO-KM-002")
@pytest.mark.parametrize("wrong", WRONG)
def test_wrong_password_refusal_names_no_password(keys: KeysCapability, sealed_record: Sealed, password: str,
                                                 wrong: str) -> None:
    attempt = _wrong_attempt(wrong, password)
    with pytest.raises(RejectedCredentials) as caught:
        keys.unlock(sealed_record.keydir, attempt)
    # A leak check needs a string that can't occur by chance: a one-letter attempt ("x") is in many a file path.
    assert password not in str(caught.value)
    assert len(attempt) < 8 or attempt not in str(caught.value)


@pytest.mark.requirement("AICO-KM-002")
@pytest.mark.parametrize("wrong", WRONG)
def test_wrong_password_changes_nothing(keys: KeysCapability, sealed_record: Sealed, password: str,
                                        wrong: str) -> None:
    before = snapshot(sealed_record.keydir)
    _try_unlock(keys, sealed_record.keydir, _wrong_attempt(wrong, password))
    assert snapshot(sealed_record.keydir) == before, "a failed unlock modified the keyring"


@pytest.mark.requirement("AICO-KM-002")
@pytest.mark.parametrize("wrong", WRONG)
def test_right_password_opens_after_a_wrong_one(keys: KeysCapability, sealed_record: Sealed, password: str,
                                                wrong: str) -> None:
    _try_unlock(keys, sealed_record.keydir, _wrong_attempt(wrong, password))
    session = keys.unlock(sealed_record.keydir, password)
    try:
        assert session.open("libsql", b"r1", sealed_record.record) == b"record before the attempt"
    finally:
        session.close()


# ---- KM-008: a password change -------------------------------------------------------------------------------
@dataclass
class Changed:
    keydir: Path
    sealed: dict[str, bytes]
    new_password: str


@pytest.fixture
def changed(key_session: KeySession, tmp_path: Path, password: str) -> Changed:
    """A keyring with a record per purpose, whose password was then changed, closed."""
    sealed = {p: key_session.seal(p, b"k", p.encode() * 3) for p in PURPOSES}
    new_password = password + " and then some 9"
    key_session.change_password(password, new_password)
    key_session.close()
    return Changed(tmp_path / "keys", sealed, new_password)


@pytest.mark.requirement("AICO-KM-008")
def test_password_change_refuses_the_old_password(keys: KeysCapability, changed: Changed, password: str) -> None:
    with pytest.raises(RejectedCredentials):
        keys.unlock(changed.keydir, password).close()


@pytest.mark.requirement("AICO-KM-008")
def test_password_change_opens_every_record_with_the_new_password(keys: KeysCapability, changed: Changed) -> None:
    session = keys.unlock(changed.keydir, changed.new_password)
    try:
        for purpose, blob in changed.sealed.items():
            assert session.open(purpose, b"k", blob) == purpose.encode() * 3, f"{purpose} data lost"
    finally:
        session.close()


@dataclass
class RefusedChange:
    """A password change attempted with a wrong current password, on a session closed afterwards."""

    keydir: Path
    before: dict[str, str]  # the keyring's files before the attempt
    outcome: BaseException | None  # what the attempt raised; None: it went through
    attacker: str  # the new password the attempt asked for


@pytest.fixture
def refused_change(key_session: KeySession, tmp_path: Path, password: str) -> RefusedChange:
    keydir = tmp_path / "keys"
    before = snapshot(keydir)
    outcome: BaseException | None = None
    attacker = passphrase()
    try:
        key_session.change_password(password + " wrong", attacker)
    except NotImplementedError:
        raise  # a build without password change: "not implemented", not a refusal to judge
    except Exception as exc:  # noqa: BLE001 - which refusal it was is its own test
        outcome = exc
    key_session.close()
    return RefusedChange(keydir, before, outcome, attacker)


@pytest.mark.requirement("AICO-KM-008", "AICO-KM-002")
def test_password_change_with_wrong_current_password_is_refused(refused_change: RefusedChange) -> None:
    outcome = refused_change.outcome
    assert isinstance(outcome, RejectedCredentials), (
        f"a change with a wrong current password was not refused with RejectedCredentials: {outcome!r}")


@pytest.mark.requirement("AICO-KM-008", "AICO-KM-002")
def test_refused_password_change_leaves_the_keyring_as_it_was(refused_change: RefusedChange) -> None:
    assert snapshot(refused_change.keydir) == refused_change.before, (
        "a password change with a wrong current password modified the keyring")


@pytest.mark.requirement("AICO-KM-008", "AICO-KM-002")
def test_refused_password_change_does_not_let_the_new_password_in(keys: KeysCapability,
                                                                  refused_change: RefusedChange) -> None:
    with pytest.raises(RejectedCredentials):
        keys.unlock(refused_change.keydir, refused_change.attacker).close()


@pytest.mark.requirement("AICO-KM-008", "AICO-KM-002")
def test_refused_password_change_keeps_the_current_password(keys: KeysCapability, refused_change: RefusedChange,
                                                           password: str) -> None:
    keys.unlock(refused_change.keydir, password).close()


# ---- KM-009: a damaged keyring -------------------------------------------------------------------------------
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


@pytest.fixture
def rotated_keyring(keys: KeysCapability, key_session: KeySession, tmp_path: Path) -> tuple[Path, list[Path]]:
    """A closed keyring holding a sealed record, with a rotated data key where the build rotates data keys (more of
    the keyring's structure to damage), and the files the build names as its keyring. Damage must be refused
    whether or not the build rotates, so a build without rotation is judged here too."""
    key_session.seal("libsql", b"k", b"v")
    offered("KeySession.rotate_data_key", lambda: key_session.rotate_data_key("libsql"), frozenset())
    key_session.close()
    keydir = tmp_path / "keys"
    return keydir, keys.keyring_files(keydir)


def _damaged(keydir: Path, files: list[Path], how: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """Damage each keyring file in turn, yielding it with a snapshot of the damaged keyring; the file is put
    back before the next one is damaged."""
    assert files, "the build names no keyring files"
    for target_file in files:
        original = target_file.read_bytes()
        _damage(target_file, how)
        try:
            yield target_file, snapshot(keydir)
        finally:
            target_file.write_bytes(original)


@pytest.mark.requirement("AICO-KM-009")
@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_keyring_is_refused(keys: KeysCapability, rotated_keyring: tuple[Path, list[Path]], password: str,
                                    how: str) -> None:
    keydir, files = rotated_keyring
    opened = []
    for target_file, _ in _damaged(keydir, files, how):
        outcome = _try_unlock(keys, keydir, password)
        if not isinstance(outcome, (IntegrityViolation, RejectedCredentials)):
            opened.append(f"{target_file.name}: {'opened' if outcome is None else type(outcome).__name__}")
    assert not opened, f"a keyring damaged by {how} was not refused: {opened}"


@pytest.mark.requirement("AICO-KM-009")
@pytest.mark.parametrize("how", DAMAGE)
def test_refused_keyring_is_left_as_it_was(keys: KeysCapability, rotated_keyring: tuple[Path, list[Path]],
                                           password: str, how: str) -> None:
    keydir, files = rotated_keyring
    rewritten = []
    for target_file, damaged in _damaged(keydir, files, how):
        _try_unlock(keys, keydir, password)
        if snapshot(keydir) != damaged:
            rewritten.append(target_file.name)
    assert not rewritten, f"an unlock of a keyring damaged by {how} overwrote it (damaged file: {rewritten})"


@pytest.mark.requirement("AICO-KM-009")
@pytest.mark.parametrize("how", DAMAGE)
def test_repaired_keyring_opens_again(keys: KeysCapability, rotated_keyring: tuple[Path, list[Path]],
                                      password: str, how: str) -> None:
    keydir, files = rotated_keyring
    for _ in _damaged(keydir, files, how):
        _try_unlock(keys, keydir, password)
    keys.unlock(keydir, password).close()


FIFO_WAIT = 10.0  # seconds an unlock may take to refuse a keyring file that is a FIFO


@pytest.mark.requirement("AICO-KM-009")
def test_a_keyring_file_replaced_by_a_fifo_is_refused_without_blocking(
        keys: KeysCapability, rotated_keyring: tuple[Path, list[Path]], password: str) -> None:
    """A FIFO in place of a keyring file (planted by anyone who can write the directory) is not a keyring: the
    unlock is refused with the contract's error, promptly. Opening it for reading the ordinary way blocks until
    a writer comes, which would hang the application at start."""
    keydir, files = rotated_keyring
    problems = []
    for target in files:
        original, mode = target.read_bytes(), stat.S_IMODE(target.stat().st_mode)
        target.unlink()
        os.mkfifo(target, 0o600)
        try:
            outcome: list[BaseException | None] = []
            worker = threading.Thread(target=lambda: outcome.append(_try_unlock(keys, keydir, password)),
                                      daemon=True)
            worker.start()
            worker.join(FIFO_WAIT)
            if worker.is_alive():
                problems.append(f"{target.name}: the unlock blocked on the FIFO for {FIFO_WAIT:g} s")
                with contextlib.suppress(OSError):  # a writer that comes and goes releases the blocked reader
                    os.close(os.open(target, os.O_WRONLY | os.O_NONBLOCK))
                worker.join(FIFO_WAIT)
            elif not isinstance(outcome[0], (IntegrityViolation, RejectedCredentials)):
                problems.append(f"{target.name}: {'opened' if outcome[0] is None else type(outcome[0]).__name__}")
        finally:
            target.unlink()
            target.write_bytes(original)
            target.chmod(mode)
    assert not problems, f"a keyring file replaced by a FIFO was not refused promptly: {problems}"


# ---- KM-010: file modes --------------------------------------------------------------------------------------
@pytest.mark.requirement("AICO-KM-010")
def test_keyring_files_are_owner_only(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                      password: str) -> None:
    offered("KeySession.rotate_data_key", lambda: key_session.rotate_data_key("libsql"), frozenset())
    offered("KeySession.change_password", lambda: key_session.change_password(password, password + "2"), frozenset())
    key_session.close()
    for path in keys.keyring_files(tmp_path / "keys"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.name} has mode {oct(mode)}"
