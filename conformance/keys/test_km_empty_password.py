"""An empty password is no password (AICO-KM-001): a master key "derived" from it depends only on the salt kept
beside the keyring, so anyone with the files has it. Creating a keyring with one, or changing to one, must be
refused, and the refusal must leave nothing behind that opens without a password.

Refused means the contract's refusal for a bad argument (``ValueError``) or one of its typed errors; which one
is the build's choice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.target import ContractError, KeysCapability, KeySession

REFUSALS = (ValueError, ContractError)


def _opens_with_empty_password(keys: KeysCapability, directory: Path) -> bool:
    try:
        keys.unlock(directory, "").close()
    except REFUSALS:
        return False
    return True


def _attempt(action: Callable[[], object]) -> BaseException | None:
    """Run ``action``; what it raised, or None. For tests whose property is what an attempt left behind."""
    try:
        action()
    except NotImplementedError:
        raise  # an operation the build lacks: "not implemented", not a refusal to judge
    except Exception as exc:  # noqa: BLE001 - whether it was refused is its own test
        return exc
    return None


def _create_with_empty_password(keys: KeysCapability, directory: Path, fast_kdf: bool) -> None:
    keys.create(directory, "", fast_kdf=fast_kdf).close()


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "empty-password"
    directory.mkdir()
    return directory


@pytest.mark.requirement("AICO-KM-001")
def test_keyring_with_an_empty_password_is_refused(keys: KeysCapability, empty_dir: Path, fast_kdf: bool) -> None:
    with pytest.raises(REFUSALS):
        _create_with_empty_password(keys, empty_dir, fast_kdf)


@pytest.mark.requirement("AICO-KM-001")
def test_refused_empty_password_keyring_leaves_nothing_that_opens(keys: KeysCapability, empty_dir: Path,
                                                                  fast_kdf: bool) -> None:
    _attempt(lambda: _create_with_empty_password(keys, empty_dir, fast_kdf))
    assert not _opens_with_empty_password(keys, empty_dir), "a keyring that opens without a password was left"


@pytest.fixture
def change_to_empty(key_session: KeySession, password: str) -> BaseException | None:
    """A change to the empty password attempted, the session closed; what the attempt raised."""
    outcome = _attempt(lambda: key_session.change_password(password, ""))
    key_session.close()
    return outcome


@pytest.mark.requirement("AICO-KM-001")
def test_change_to_an_empty_password_is_refused(change_to_empty: BaseException | None) -> None:
    assert isinstance(change_to_empty, REFUSALS), f"a change to an empty password was not refused: {change_to_empty!r}"


@pytest.mark.requirement("AICO-KM-001")
def test_refused_change_to_an_empty_password_leaves_none(keys: KeysCapability, tmp_path: Path,
                                                         change_to_empty: BaseException | None) -> None:
    assert not _opens_with_empty_password(keys, tmp_path / "keys"), "the keyring now opens without a password"


@pytest.mark.requirement("AICO-KM-001")
def test_refused_change_to_an_empty_password_keeps_the_password(keys: KeysCapability, tmp_path: Path, password: str,
                                                                change_to_empty: BaseException | None) -> None:
    keys.unlock(tmp_path / "keys", password).close()
