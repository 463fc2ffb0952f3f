"""AICO-KM-008 across sessions: a session unlocked before the password was changed elsewhere can neither bring
the old password back nor lose what was sealed.

Two sessions of one keyring are ordinary: a CLI command next to the running companion, a backup tool, a second
window. When one of them changes the password, the other still holds keys that came from the old one. Whatever
write it attempts next, it must be refused or must leave the keyring under the new password: afterwards the
old password opens nothing and the new one opens everything sealed before the change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.target import KeysCapability, KeySession, RejectedCredentials

from ._lifecycle import strong_passphrase

# What a stale session may try; ``old`` is the password it was unlocked with.
WRITES: dict[str, Callable[[KeySession, str], None]] = {
    "rotate-data-key": lambda session, old: session.rotate_data_key("libsql"),
    "rotate-kek": lambda session, old: session.rotate_kek("libsql"),
    "rotate-master": lambda session, old: session.rotate_master(old),
    "change-password": lambda session, old: session.change_password(old, strong_passphrase()),
}
PURPOSES = ("libsql", "rocksdb", "audit")


@pytest.mark.requirement("AICO-KM-008")
@pytest.mark.parametrize("write", sorted(WRITES))
def test_session_from_before_a_password_change_cannot_undo_it(keys: KeysCapability, key_session: KeySession,
                                                              tmp_path: Path, password: str, write: str) -> None:
    keydir = tmp_path / "keys"
    sealed = {p: key_session.seal(p, b"k", p.encode() * 3) for p in PURPOSES}
    stale = keys.unlock(keydir, password)
    new_password = strong_passphrase()
    key_session.change_password(password, new_password)
    key_session.close()
    try:
        WRITES[write](stale, password)
    except NotImplementedError:
        raise
    except Exception:  # noqa: BLE001 - refusing the stale write is the safe answer, whatever its type
        pass
    finally:
        with contextlib.suppress(Exception):
            stale.close()
    with pytest.raises(RejectedCredentials):
        keys.unlock(keydir, password)
    session = keys.unlock(keydir, new_password)
    try:
        lost = [p for p, blob in sealed.items() if session.open(p, b"k", blob) != p.encode() * 3]
    finally:
        session.close()
    assert not lost, f"records sealed before the change no longer open with the new password: {lost}"
