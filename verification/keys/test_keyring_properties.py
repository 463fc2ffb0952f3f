"""Properties of the keyring and hierarchy (AICO-KM-001..010) on the reference implementation."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aico_secure import envelope
from aico_secure.conform.hypothesis_profiles import KDF, budget
from aico_secure.envelope import RecordContext
from aico_secure.errors import (
    KdfProfileError,
    KeyringCorruptError,
    KeyringExistsError,
    KeyringNotFoundError,
    KeyringVersionError,
    WrongPasswordError,
)
from aico_secure.keys import KdfParameters, Keyring, keyring_file
from aico_secure.keys.profiles import RFC9106_SECOND_OPTION, calibrate_production

fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None,
                      max_examples=budget(KDF))
passwords = st.text(min_size=1, max_size=40).filter(lambda p: p.strip() != "" or True)


def make(tmp_path: Path, password: str = "correct horse", name: str = "keyring.json"):
    return Keyring.create(tmp_path / name, password, profile="test", purposes=["libsql", "rocksdb"])


@fixture_ok
@given(password=passwords, wrong=passwords)
def test_only_the_right_password_unlocks(tmp_path_factory: pytest.TempPathFactory, password: str, wrong: str) -> None:
    directory = tmp_path_factory.mktemp("kr")
    make(directory, password)
    Keyring.unlock(directory / "keyring.json", password)
    if wrong != password:
        before = (directory / "keyring.json").read_bytes()
        with pytest.raises(WrongPasswordError):
            Keyring.unlock(directory / "keyring.json", wrong)
        assert (directory / "keyring.json").read_bytes() == before


def test_keys_differ_across_labels_and_master_keys(tmp_path: Path) -> None:
    a, b = make(tmp_path, name="a.json"), make(tmp_path, name="b.json")
    labels = ["libsql", "chroma", "duckdb", "rocksdb", "audit", "transport", "gateway", "consent"]
    ka = {label: a.derive(label).reveal() for label in labels}
    assert len(set(ka.values())) == len(labels)
    assert all(b.derive(label).reveal() != ka[label] for label in labels)
    assert a.derive("libsql", version=2).reveal() != ka["libsql"]
    assert Keyring.unlock(tmp_path / "a.json", "correct horse").derive("libsql").reveal() == ka["libsql"]


@fixture_ok
@given(records=st.lists(st.binary(max_size=64), min_size=1, max_size=8), steps=st.lists(
    st.sampled_from(["dek", "kek", "master", "password"]), min_size=1, max_size=5))
def test_rotation_and_password_change_keep_every_record_readable(
        tmp_path_factory: pytest.TempPathFactory, records: list[bytes], steps: list[str]) -> None:
    directory = tmp_path_factory.mktemp("rot")
    password = "pw0"
    keyring = make(directory, password)
    sealed = []
    for i, record in enumerate(records):
        ctx = RecordContext("rocksdb", "c", str(i).encode())
        sealed.append((ctx, envelope.seal(keyring.active_data_key("rocksdb"), record, ctx)))
        step = steps[i % len(steps)]
        if step == "dek":
            keyring.rotate_dek("rocksdb")
        elif step == "kek":
            keyring.rotate_kek("rocksdb")
        elif step == "master":
            keyring.rotate_master(password)
        else:
            keyring.change_password(password, password + "x")
            password += "x"
    reopened = Keyring.unlock(directory / "keyring.json", password)
    for (ctx, blob), record in zip(sealed, records, strict=True):
        assert envelope.open_with(lambda kid: reopened.data_key("rocksdb", kid), blob, ctx) == record


def test_master_rotation_rewraps_without_touching_deks(tmp_path: Path) -> None:
    keyring = make(tmp_path)
    before = {p: [k.secret.reveal() for k in keyring.data_keys(p)] for p in keyring.purposes()}
    doc_before = json.loads((tmp_path / "keyring.json").read_text())
    keyring.rotate_master("correct horse")
    doc_after = json.loads((tmp_path / "keyring.json").read_text())
    assert doc_before["kdf"]["salt"] != doc_after["kdf"]["salt"]
    assert doc_before["deks"] != doc_after["deks"]  # re-wrapped
    reopened = Keyring.unlock(tmp_path / "keyring.json", "correct horse")
    assert {p: [k.secret.reveal() for k in reopened.data_keys(p)] for p in reopened.purposes()} == before


def test_keyring_is_owner_only_and_atomic(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        make(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "keyring.json").stat().st_mode) == 0o600
    # no temp file left behind; the update lock's sidecar is owner-only too
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keyring.json.lock", "keyring.json"]
    assert stat.S_IMODE((tmp_path / ".keyring.json.lock").stat().st_mode) == 0o600


def _rewrite(path: Path, mutate) -> None:
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_bytes(keyring_file.serialize(doc))  # canonical, so each case reaches the check it targets


@pytest.mark.parametrize("mutation, error", [
    (lambda d: d.update(format_version=3), KeyringVersionError),
    (lambda d: d.update(format_version=2), KeyringCorruptError),  # version 2 without its counters
    (lambda d: d.update(format_version=0), KeyringVersionError),
    (lambda d: d.update(format="something-else"), KeyringCorruptError),
    (lambda d: d.pop("verifier"), KeyringCorruptError),
    (lambda d: d.update(extra=1), KeyringCorruptError),
    (lambda d: d["kdf"].update(profile="production"), KdfProfileError),
    (lambda d: d["kdf"].update(memory_kib=1 << 40), KdfProfileError),
    (lambda d: d["kdf"].update(salt="AAAA"), KeyringCorruptError),
    (lambda d: d.update(test_only=False), KeyringCorruptError),
    (lambda d: d.update(created_at="2020-01-01T00:00:00+00:00"), KeyringCorruptError),
    (lambda d: d["deks"]["libsql"][0].update(active=False), KeyringCorruptError),
])
def test_edited_keyring_is_refused_with_a_typed_error(tmp_path: Path, mutation, error) -> None:
    make(tmp_path)
    path = tmp_path / "keyring.json"
    _rewrite(path, mutation)
    edited = path.read_bytes()
    with pytest.raises(error) as caught:
        Keyring.unlock(path, "correct horse")
    assert "correct horse" not in str(caught.value)
    assert path.read_bytes() == edited


def test_whitespace_edit_is_an_edit(tmp_path: Path) -> None:
    make(tmp_path)
    path = tmp_path / "keyring.json"
    path.write_bytes(path.read_bytes().replace(b"  ", b"\t", 1))
    with pytest.raises(KeyringCorruptError, match="canonical"):
        Keyring.unlock(path, "correct horse")


@pytest.mark.parametrize("content", [b"", b"{", b"\xff\xfe", b"[]", b"null", b"{}" * 10])
def test_truncated_or_garbage_keyring_is_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "keyring.json").write_bytes(content)
    with pytest.raises(KeyringCorruptError):
        Keyring.unlock(tmp_path / "keyring.json", "pw")


def test_missing_and_existing_keyrings(tmp_path: Path) -> None:
    with pytest.raises(KeyringNotFoundError):
        Keyring.unlock(tmp_path / "nope.json", "pw")
    make(tmp_path)
    with pytest.raises(KeyringExistsError):
        make(tmp_path)


def test_production_profile_meets_rfc9106_floor_and_rejects_downgrades() -> None:
    params = calibrate_production()
    assert params.memory_kib >= 256 * 1024
    for name, floor in RFC9106_SECOND_OPTION.items():
        assert getattr(params, name) >= floor
    with pytest.raises(KdfProfileError):
        KdfParameters("production", 1, 64 * 1024, 4).validate()


def test_test_profile_keyrings_say_so(tmp_path: Path) -> None:
    make(tmp_path)
    doc = json.loads((tmp_path / "keyring.json").read_text())
    assert doc["test_only"] is True and "TEST" in doc["warning"]
    assert Keyring.describe(tmp_path / "keyring.json").test_only
