"""Rollback anchors: monotonic counters sealed into the keyring under its MAC, persisted atomically and locked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aico_secure.errors import KeyringCorruptError, WrongPasswordError
from aico_secure.keys import (
    CounterRollbackError,
    Keyring,
    KeyringChangedError,
    UnlockedKeyring,
    keyring_file,
)

PASSWORD = "anchor password"


def make(tmp_path: Path) -> UnlockedKeyring:
    return Keyring.create(tmp_path / "keyring.json", PASSWORD, profile="test", purposes=["audit"])


def doc(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "keyring.json").read_text())


def test_counter_starts_at_zero_and_advances_persistently(tmp_path: Path) -> None:
    keyring = make(tmp_path)
    assert keyring.counter("audit-log:00ff") == 0
    assert doc(tmp_path)["format_version"] == 1 and "counters" not in doc(tmp_path)  # untouched keyrings stay v1
    keyring.advance_counter("audit-log:00ff", 5)
    keyring.advance_counter("gateway.revocations", 2)
    assert keyring.counter("audit-log:00ff") == 5
    reopened = Keyring.unlock(tmp_path / "keyring.json", PASSWORD)
    assert reopened.counter("audit-log:00ff") == 5 and reopened.counter("gateway.revocations") == 2
    assert doc(tmp_path)["format_version"] == 2
    assert doc(tmp_path)["counters"] == {"audit-log:00ff": 5, "gateway.revocations": 2}
    reopened.rotate_master(PASSWORD)  # every other change carries the counters along
    reopened.change_password(PASSWORD, "new one")
    assert Keyring.unlock(tmp_path / "keyring.json", "new one").counter("audit-log:00ff") == 5


def test_counter_refuses_to_go_back_and_same_value_writes_nothing(tmp_path: Path) -> None:
    keyring = make(tmp_path)
    keyring.advance_counter("log", 7)
    before = (tmp_path / "keyring.json").read_bytes()
    with pytest.raises(CounterRollbackError, match="refusing to move it back"):
        keyring.advance_counter("log", 6)
    keyring.advance_counter("log", 7)
    assert (tmp_path / "keyring.json").read_bytes() == before
    assert keyring.counter("log") == 7


@pytest.mark.parametrize("name, value", [("Log", 1), ("", 1), ("x" * 129, 1), ("a b", 1), ("log\n", 1), ("log", -1),
                                         ("log", True), ("log", 1.0), ("log", 1 << 63)])
def test_bad_counter_names_and_values_are_refused(tmp_path: Path, name: str, value: object) -> None:
    keyring = make(tmp_path)
    before = (tmp_path / "keyring.json").read_bytes()
    with pytest.raises(ValueError):
        keyring.advance_counter(name, value)  # type: ignore[arg-type]
    assert (tmp_path / "keyring.json").read_bytes() == before


def test_counters_are_covered_by_the_mac(tmp_path: Path) -> None:
    make(tmp_path).advance_counter("log", 9)
    path = tmp_path / "keyring.json"
    edited = doc(tmp_path)
    edited["counters"]["log"] = 3  # an attacker lowering the anchor to match a rolled-back log
    path.write_bytes(keyring_file.serialize(edited))
    with pytest.raises(KeyringCorruptError, match="integrity"):
        Keyring.unlock(path, PASSWORD)


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(counters={"log": 1}),  # version 1 has no counters
    lambda d: d.update(format_version=2),  # version 2 must carry them
    lambda d: d.update(format_version=2, counters={"log": -1}),
    lambda d: d.update(format_version=2, counters={"Bad Name": 1}),
])
def test_counter_schema_is_strict(tmp_path: Path, mutate) -> None:
    make(tmp_path)
    path = tmp_path / "keyring.json"
    edited = doc(tmp_path)
    mutate(edited)
    path.write_bytes(keyring_file.serialize(edited))
    with pytest.raises(KeyringCorruptError, match="malformed"):
        Keyring.unlock(path, PASSWORD)


def test_a_counter_advanced_elsewhere_is_seen_and_not_undone(tmp_path: Path) -> None:
    first = make(tmp_path)
    second = Keyring.unlock(tmp_path / "keyring.json", PASSWORD)
    second.advance_counter("log", 10)
    second.rotate_dek("audit")
    assert first.counter("log") == 10
    with pytest.raises(CounterRollbackError):
        first.advance_counter("log", 4)
    first.advance_counter("other", 1)  # applied on top of the newer file: nothing of second's is lost
    final = Keyring.unlock(tmp_path / "keyring.json", PASSWORD)
    assert final.counter("log") == 10 and final.counter("other") == 1
    assert final.key_ids("audit") == second.key_ids("audit")


def test_keyring_rolled_back_under_a_running_process_is_detected(tmp_path: Path) -> None:
    keyring = make(tmp_path)
    path = tmp_path / "keyring.json"
    keyring.advance_counter("log", 1)
    old = path.read_bytes()
    keyring.advance_counter("log", 2)
    path.write_bytes(old)  # an older, authentic copy of the keyring itself
    with pytest.raises(CounterRollbackError, match="older copy"):
        keyring.counter("log")


def test_password_changed_elsewhere_makes_this_copy_refuse_not_overwrite(tmp_path: Path) -> None:
    first = make(tmp_path)
    Keyring.unlock(tmp_path / "keyring.json", PASSWORD).change_password(PASSWORD, "changed")
    after = (tmp_path / "keyring.json").read_bytes()
    for change in (lambda: first.advance_counter("log", 1), lambda: first.rotate_dek("audit"),
                   lambda: first.change_password(PASSWORD, "mine"), lambda: first.rotate_master(PASSWORD)):
        with pytest.raises(KeyringChangedError, match="unlock it again"):
            change()
    assert (tmp_path / "keyring.json").read_bytes() == after
    with pytest.raises(WrongPasswordError):
        Keyring.unlock(tmp_path / "keyring.json", PASSWORD)
    Keyring.unlock(tmp_path / "keyring.json", "changed")
