"""The hierarchy below the master key: per-purpose keys (KM-004), random wrapped data keys (KM-005), rotation
(KM-006, KM-007), and keys never stored or printed (KM-003)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from aico_secure.conform.checks import find_leaks, text_contains_secret
from aico_secure.target import KeysCapability, KeySession, RejectedCredentials

PURPOSES = ("libsql", "chroma", "duckdb", "rocksdb", "audit", "transport")


@pytest.mark.requirement("AICO-KM-004")
def test_purpose_keys_are_deterministic_and_independent(keys: KeysCapability, key_session: KeySession,
                                                        tmp_path: Path, password: str, fast_kdf: bool) -> None:
    first = {p: key_session.derive(p) for p in PURPOSES}
    assert all(len(k) >= 32 for k in first.values()), "a purpose key is shorter than 256 bits"
    assert len(set(first.values())) == len(PURPOSES), "two purposes share a key"
    assert {p: key_session.derive(p) for p in PURPOSES} == first, "derivation is not deterministic"
    key_session.close()
    again = keys.unlock(tmp_path / "keys", password)
    assert {p: again.derive(p) for p in PURPOSES} == first, "same master key and label gave a different key"
    other = keys.create(tmp_path / "other", password, fast_kdf=fast_kdf)
    assert all(other.derive(p) != first[p] for p in PURPOSES), "a different master key gave the same purpose key"
    material = set(again.secret_material().values())
    assert not material & set(first.values()) - set(), "a purpose key equals the master key or a data key"


@pytest.mark.requirement("AICO-KM-005")
def test_data_keys_are_random_not_password_derived(keys: KeysCapability, tmp_path: Path, password: str,
                                                   fast_kdf: bool) -> None:
    a = keys.create(tmp_path / "a", password, fast_kdf=fast_kdf)
    b = keys.create(tmp_path / "b", password, fast_kdf=fast_kdf)
    for session in (a, b):
        for purpose in PURPOSES:
            session.seal(purpose, b"k", b"v")
    ma, mb = a.secret_material(), b.secret_material()
    assert len(ma) > len(PURPOSES), "the build exposes no data keys through secret_material()"
    assert not set(ma.values()) & set(mb.values()), "two keyrings made from the same password share key material"
    values = list(ma.values())
    assert len(values) == len(set(values)), "two data keys of one keyring are equal"
    assert all(len(v) >= 32 for v in values)


@pytest.mark.requirement("AICO-KM-005", "AICO-KM-003")
def test_keyring_on_disk_holds_no_plain_key(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                           password: str, evidence) -> None:
    for purpose in PURPOSES:
        key_session.seal(purpose, b"k", b"v")
        key_session.rotate_data_key(purpose)
    material = dict(key_session.secret_material())
    key_session.rotate_master(password)
    material.update({f"{k} (after rotation)": v for k, v in key_session.secret_material().items()})
    key_session.close()
    result = find_leaks(tmp_path, canaries=[password], secrets=material)
    evidence("files scanned", result.files_read)
    evidence("bytes scanned", result.bytes_read)
    assert result.files_read > 0, "the keyring directory is empty: nothing was checked"
    assert not result.findings, f"key material or password on disk: {result.findings[:5]}"


@pytest.mark.requirement("AICO-KM-003")
def test_no_key_in_repr_exceptions_or_logs(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                           password: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key_session.seal("libsql", b"k", b"v")
    material = dict(key_session.secret_material())
    assert material, "the build exposes no key material to check"
    texts = [repr(key_session), str(key_session), repr(keys)]
    with pytest.raises(RejectedCredentials) as caught:
        keys.unlock(tmp_path / "keys", password + "-wrong")
    texts += [str(caught.value), repr(caught.value)]
    try:
        key_session.open("libsql", b"k", b"\x01" * 64)
    except Exception as exc:  # noqa: BLE001 - any refusal's text is what we inspect
        texts += [str(exc), repr(exc)]
    key_session.rotate_master(password)
    material.update({f"{k} (after rotation)": v for k, v in key_session.secret_material().items()})
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        assert not text_contains_secret(text, material), f"key material printed in: {text[:200]}"
        assert password not in text, "the password appears in a message"


@pytest.mark.requirement("AICO-KM-006")
@pytest.mark.parametrize("rotation", ["master", "kek"])
def test_master_and_kek_rotation_rewrap_only(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                             password: str, rotation: str) -> None:
    sealed = {p: key_session.seal(p, b"rec", f"{p} data".encode()) for p in PURPOSES}
    ids_before = {p: key_session.data_key_ids(p) for p in PURPOSES}
    dek_values_before = {k: v for k, v in key_session.secret_material().items()}
    for purpose in PURPOSES:
        if rotation == "master":
            key_session.rotate_master(password)
            break
        key_session.rotate_kek(purpose)
    assert {p: key_session.data_key_ids(p) for p in PURPOSES} == ids_before, "rotation replaced data keys"
    after = key_session.secret_material()
    kept = [v for v in dek_values_before.values() if v in after.values()]
    assert len(kept) >= len(PURPOSES), "data keys changed: stored data would need re-encryption"
    key_session.close()
    session = keys.unlock(tmp_path / "keys", password)
    for purpose, blob in sealed.items():
        assert session.open(purpose, b"rec", blob) == f"{purpose} data".encode()


@pytest.mark.requirement("AICO-KM-007")
def test_data_key_rotation_keeps_old_data_readable(keys: KeysCapability, key_session: KeySession,
                                                  tmp_path: Path, password: str) -> None:
    old = key_session.seal("rocksdb", b"a", b"written before rotation")
    ids = key_session.data_key_ids("rocksdb")
    material_before = set(key_session.secret_material().values())
    key_session.rotate_data_key("rocksdb")
    new_ids = key_session.data_key_ids("rocksdb")
    assert len(new_ids) == len(ids) + 1 and new_ids[-1] not in ids, "no new data key after rotation"
    assert set(key_session.secret_material().values()) - material_before, "rotation produced no new key material"
    new = key_session.seal("rocksdb", b"b", b"written after rotation")
    key_session.close()
    session = keys.unlock(tmp_path / "keys", password)
    assert session.open("rocksdb", b"a", old) == b"written before rotation"
    assert session.open("rocksdb", b"b", new) == b"written after rotation"
    assert session.data_key_ids("rocksdb") == new_ids
