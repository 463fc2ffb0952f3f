"""``retire_dek`` forgets exactly the data key it names, and never the active one. The reference never calls it
on its own (retired keys stay until someone retires them explicitly), so nothing in the conformance suite
reaches it; a tool that re-encrypts and then retires must not lose data sealed under another key."""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.keys import Keyring

PASSWORD = "correct horse battery staple 42!"


def test_retiring_one_key_keeps_every_other(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    keyring = Keyring.create(path, PASSWORD, profile="test", purposes=["libsql"])
    first = keyring.active_data_key("libsql")
    second = keyring.rotate_dek("libsql")
    third = keyring.rotate_dek("libsql")
    keyring.retire_dek("libsql", second.key_id)
    reopened = Keyring.unlock(path, PASSWORD)
    ids = set(reopened.key_ids("libsql"))
    assert ids == {first.key_id.hex(), third.key_id.hex()}, f"after retiring {second.key_id.hex()}: {ids}"
    assert reopened.active_data_key("libsql").key_id == third.key_id
    with pytest.raises(ValueError):
        reopened.retire_dek("libsql", third.key_id)
    with pytest.raises(KeyError):
        reopened.retire_dek("libsql", second.key_id)
