"""An empty password is no password (AICO-KM-001): a master key "derived" from it depends only on the salt kept
beside the keyring, so anyone with the files has it. Creating a keyring with one, or changing to one, must be
refused, and the refusal must leave nothing behind that opens without a password.

Refused means the contract's refusal for a bad argument (``ValueError``) or one of its typed errors; which one
is the build's choice.
"""

from __future__ import annotations

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


@pytest.mark.requirement("AICO-KM-001")
def test_keyring_with_an_empty_password_is_refused(keys: KeysCapability, tmp_path: Path, fast_kdf: bool) -> None:
    directory = tmp_path / "empty-password"
    directory.mkdir()
    with pytest.raises(REFUSALS):
        keys.create(directory, "", fast_kdf=fast_kdf).close()
    assert not _opens_with_empty_password(keys, directory), "a keyring that opens without a password was left"


@pytest.mark.requirement("AICO-KM-001")
def test_change_to_an_empty_password_is_refused(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                                password: str) -> None:
    with pytest.raises(REFUSALS):
        key_session.change_password(password, "")
    key_session.close()
    assert not _opens_with_empty_password(keys, tmp_path / "keys"), "the keyring now opens without a password"
    keys.unlock(tmp_path / "keys", password).close()
