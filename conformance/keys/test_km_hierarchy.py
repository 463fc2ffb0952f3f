"""The hierarchy below the master key: per-purpose keys (KM-004), random wrapped data keys (KM-005), rotation
(KM-006, KM-007), and keys never stored or printed (KM-003).

One test per property, on shared set-ups (fixtures), so a build with a purpose key too short is still checked
for whether its purpose keys are independent, and a rotation that replaced data keys is still checked for
whether the data opens afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from aico_secure.conform.checks import find_leaks, text_contains_secret
from aico_secure.target import KeysCapability, KeySession, RejectedCredentials

PURPOSES = ("libsql", "chroma", "duckdb", "rocksdb", "audit", "transport")


@pytest.fixture
def purpose_keys(key_session: KeySession) -> dict[str, bytes]:
    """Every purpose's key, derived once from a fresh keyring."""
    return {p: key_session.derive(p) for p in PURPOSES}


@pytest.mark.requirement("AICO-KM-004")
def test_purpose_keys_are_256_bits(purpose_keys: dict[str, bytes]) -> None:
    assert all(len(k) >= 32 for k in purpose_keys.values()), "a purpose key is shorter than 256 bits"


@pytest.mark.requirement("AICO-KM-004")
def test_purpose_keys_are_independent(purpose_keys: dict[str, bytes]) -> None:
    assert len(set(purpose_keys.values())) == len(PURPOSES), "two purposes share a key"


@pytest.mark.requirement("AICO-KM-004")
def test_purpose_keys_are_deterministic(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                        password: str, purpose_keys: dict[str, bytes]) -> None:
    assert {p: key_session.derive(p) for p in PURPOSES} == purpose_keys, "derivation is not deterministic"
    key_session.close()
    again = keys.unlock(tmp_path / "keys", password)
    try:
        assert {p: again.derive(p) for p in PURPOSES} == purpose_keys, (
            "same master key and label gave a different key")
    finally:
        again.close()


@pytest.mark.requirement("AICO-KM-004")
def test_purpose_keys_depend_on_the_master_key(keys: KeysCapability, tmp_path: Path, password: str, fast_kdf: bool,
                                               purpose_keys: dict[str, bytes]) -> None:
    other = keys.create(tmp_path / "other", password, fast_kdf=fast_kdf)
    try:
        assert all(other.derive(p) != purpose_keys[p] for p in PURPOSES), (
            "a different master key gave the same purpose key")
    finally:
        other.close()


@pytest.mark.requirement("AICO-KM-004")
def test_purpose_keys_are_no_other_key(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                       password: str, purpose_keys: dict[str, bytes]) -> None:
    key_session.close()
    again = keys.unlock(tmp_path / "keys", password)
    try:
        material = set(again.secret_material().values())
    finally:
        again.close()
    assert not material & set(purpose_keys.values()), "a purpose key equals the master key or a data key"


@dataclass
class TwoKeyrings:
    """Two keyrings made from one password, each with a data key per purpose."""

    first: Mapping[str, bytes]
    second: Mapping[str, bytes]

    def checked(self) -> TwoKeyrings:
        """Itself, once it is sure there are data keys to judge (a build may expose none)."""
        assert len(self.first) > len(PURPOSES), "the build exposes no data keys through secret_material()"
        return self


@pytest.fixture
def two_keyrings(keys: KeysCapability, tmp_path: Path, password: str, fast_kdf: bool) -> TwoKeyrings:
    a = keys.create(tmp_path / "a", password, fast_kdf=fast_kdf)
    b = keys.create(tmp_path / "b", password, fast_kdf=fast_kdf)
    try:
        for session in (a, b):
            for purpose in PURPOSES:
                session.seal(purpose, b"k", b"v")
        ma, mb = dict(a.secret_material()), dict(b.secret_material())
    finally:
        a.close()
        b.close()
    return TwoKeyrings(ma, mb)


@pytest.mark.requirement("AICO-KM-005")
def test_data_keys_are_not_password_derived(two_keyrings: TwoKeyrings) -> None:
    keyrings = two_keyrings.checked()
    assert not set(keyrings.first.values()) & set(keyrings.second.values()), (
        "two keyrings made from the same password share key material")


@pytest.mark.requirement("AICO-KM-005")
def test_data_keys_of_one_keyring_differ(two_keyrings: TwoKeyrings) -> None:
    values = list(two_keyrings.checked().first.values())
    assert len(values) == len(set(values)), "two data keys of one keyring are equal"


@pytest.mark.requirement("AICO-KM-005")
def test_data_keys_are_256_bits(two_keyrings: TwoKeyrings) -> None:
    assert all(len(v) >= 32 for v in two_keyrings.checked().first.values()), "a key is shorter than 256 bits"


def _scan_keyring(directory: Path, password: str, material: dict[str, bytes],
                  evidence: Callable[[str, object], None]) -> None:
    result = find_leaks(directory, canaries=[password], secrets=material)
    evidence("files scanned", result.files_read)
    evidence("bytes scanned", result.bytes_read)
    assert result.files_read > 0, "the keyring directory is empty: nothing was checked"
    assert not result.findings, f"key material or password on disk: {result.findings[:5]}"


@pytest.mark.requirement("AICO-KM-005", "AICO-KM-003")
def test_keyring_on_disk_holds_no_plain_key(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                           password: str, evidence: Callable[[str, object], None]) -> None:
    """The master key and every data key in use, searched for in the closed keyring: no rotation needed, so a
    build without rotations is judged on this too."""
    for purpose in PURPOSES:
        key_session.seal(purpose, b"k", b"v")
    material = dict(key_session.secret_material())
    key_session.close()
    _scan_keyring(tmp_path, password, material, evidence)


@pytest.mark.requirement("AICO-KM-003")
def test_keyring_on_disk_holds_no_plain_key_after_rotations(keys: KeysCapability, key_session: KeySession,
                                                            tmp_path: Path, password: str,
                                                            evidence: Callable[[str, object], None]) -> None:
    """The same search after data-key and master rotations: old and new keys both count."""
    for purpose in PURPOSES:
        key_session.seal(purpose, b"k", b"v")
        key_session.rotate_data_key(purpose)
    material = dict(key_session.secret_material())
    key_session.rotate_master(password)
    material.update({f"{k} (after rotation)": v for k, v in key_session.secret_material().items()})
    key_session.close()
    _scan_keyring(tmp_path, password, material, evidence)


def _printed(keys: KeysCapability, session: KeySession, tmp_path: Path, password: str) -> list[str]:
    """What the build shows about a session and its refusals: reprs, a wrong-password error, a bad blob's error."""
    texts = [repr(session), str(session), repr(keys)]
    with pytest.raises(RejectedCredentials) as caught:
        keys.unlock(tmp_path / "keys", password + "-wrong")
    texts += [str(caught.value), repr(caught.value)]
    try:
        session.open("libsql", b"k", b"\x01" * 64)
    except Exception as exc:  # noqa: BLE001 - any refusal's text is what we inspect
        texts += [str(exc), repr(exc)]
    return texts


def _assert_unprinted(texts: list[str], material: dict[str, bytes], password: str) -> None:
    for text in texts:
        assert not text_contains_secret(text, material), f"key material printed in: {text[:200]}"
        assert password not in text, "the password appears in a message"


@pytest.mark.requirement("AICO-KM-003")
def test_no_key_in_repr_exceptions_or_logs(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                           password: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key_session.seal("libsql", b"k", b"v")
    material = dict(key_session.secret_material())
    assert material, "the build exposes no key material to check"
    texts = _printed(keys, key_session, tmp_path, password) + [r.getMessage() for r in caplog.records]
    _assert_unprinted(texts, material, password)


@pytest.mark.requirement("AICO-KM-003")
def test_no_key_in_repr_exceptions_or_logs_after_master_rotation(keys: KeysCapability, key_session: KeySession,
                                                                 tmp_path: Path, password: str,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """The same texts once the master key was rotated: old and new keys must both stay unprinted."""
    caplog.set_level(logging.DEBUG)
    key_session.seal("libsql", b"k", b"v")
    material = dict(key_session.secret_material())
    assert material, "the build exposes no key material to check"
    key_session.rotate_master(password)
    material.update({f"{k} (after rotation)": v for k, v in key_session.secret_material().items()})
    texts = _printed(keys, key_session, tmp_path, password) + [r.getMessage() for r in caplog.records]
    _assert_unprinted(texts, material, password)


@dataclass
class Rewrapped:
    """Records sealed per purpose, then a master or KEK rotation; what the keyring held before and after."""

    sealed: dict[str, bytes]
    ids_before: dict[str, list[str]]
    ids_after: dict[str, list[str]]
    material_before: dict[str, bytes]
    material_after: dict[str, bytes]


@pytest.fixture(params=["master", "kek"])
def rewrapped(request: pytest.FixtureRequest, key_session: KeySession, password: str) -> Rewrapped:
    sealed = {p: key_session.seal(p, b"rec", f"{p} data".encode()) for p in PURPOSES}
    ids_before = {p: key_session.data_key_ids(p) for p in PURPOSES}
    material_before = dict(key_session.secret_material())
    for purpose in PURPOSES:
        if request.param == "master":
            key_session.rotate_master(password)
            break
        key_session.rotate_kek(purpose)
    return Rewrapped(sealed, ids_before, {p: key_session.data_key_ids(p) for p in PURPOSES}, material_before,
                     dict(key_session.secret_material()))


@pytest.mark.requirement("AICO-KM-006")
def test_master_and_kek_rotation_keep_the_data_key_ids(rewrapped: Rewrapped) -> None:
    assert rewrapped.ids_after == rewrapped.ids_before, "rotation replaced data keys"


@pytest.mark.requirement("AICO-KM-006")
def test_master_and_kek_rotation_keep_the_data_keys(rewrapped: Rewrapped) -> None:
    kept = [v for v in rewrapped.material_before.values() if v in rewrapped.material_after.values()]
    assert len(kept) >= len(PURPOSES), "data keys changed: stored data would need re-encryption"


@pytest.mark.requirement("AICO-KM-006")
def test_master_and_kek_rotation_keep_the_data_readable(keys: KeysCapability, key_session: KeySession,
                                                        tmp_path: Path, password: str, rewrapped: Rewrapped) -> None:
    key_session.close()
    session = keys.unlock(tmp_path / "keys", password)
    try:
        for purpose, blob in rewrapped.sealed.items():
            assert session.open(purpose, b"rec", blob) == f"{purpose} data".encode()
    finally:
        session.close()


@dataclass
class DekRotated:
    """A record sealed before a data-key rotation and one after; the key ids and material either side."""

    old: bytes
    new: bytes
    ids_before: list[str]
    ids_after: list[str]
    new_material: bool


@pytest.fixture
def dek_rotated(key_session: KeySession) -> DekRotated:
    old = key_session.seal("rocksdb", b"a", b"written before rotation")
    ids = key_session.data_key_ids("rocksdb")
    material_before = set(key_session.secret_material().values())
    key_session.rotate_data_key("rocksdb")
    new_ids = key_session.data_key_ids("rocksdb")
    new_material = bool(set(key_session.secret_material().values()) - material_before)
    new = key_session.seal("rocksdb", b"b", b"written after rotation")
    key_session.close()
    return DekRotated(old, new, ids, new_ids, new_material)


@pytest.mark.requirement("AICO-KM-007")
def test_data_key_rotation_adds_a_new_key(dek_rotated: DekRotated) -> None:
    ids, new_ids = dek_rotated.ids_before, dek_rotated.ids_after
    assert len(new_ids) == len(ids) + 1 and new_ids[-1] not in ids, "no new data key after rotation"
    assert dek_rotated.new_material, "rotation produced no new key material"


@pytest.mark.requirement("AICO-KM-007")
def test_data_key_rotation_keeps_old_data_readable(keys: KeysCapability, tmp_path: Path, password: str,
                                                  dek_rotated: DekRotated) -> None:
    session = keys.unlock(tmp_path / "keys", password)
    try:
        assert session.open("rocksdb", b"a", dek_rotated.old) == b"written before rotation"
    finally:
        session.close()


@pytest.mark.requirement("AICO-KM-007")
def test_data_key_rotation_keeps_new_data_readable(keys: KeysCapability, tmp_path: Path, password: str,
                                                  dek_rotated: DekRotated) -> None:
    session = keys.unlock(tmp_path / "keys", password)
    try:
        assert session.open("rocksdb", b"b", dek_rotated.new) == b"written after rotation"
    finally:
        session.close()


@pytest.mark.requirement("AICO-KM-007")
def test_data_key_rotation_is_persisted(keys: KeysCapability, tmp_path: Path, password: str,
                                        dek_rotated: DekRotated) -> None:
    session = keys.unlock(tmp_path / "keys", password)
    try:
        assert session.data_key_ids("rocksdb") == dek_rotated.ids_after, "the rotated key list was not kept"
    finally:
        session.close()
