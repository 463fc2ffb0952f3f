"""RocksDB store internals: values bound to column family and key, names blinded, naming key stable across
rotation, re-encryption, compression and BlobDB on, deletion through blob GC."""

from __future__ import annotations

from pathlib import Path

import pytest
import rocksdict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aico_secure.conform.hypothesis_profiles import DISK, budget
from aico_secure.keys import UnlockedKeyring
from aico_secure.stores import forensics
from aico_secure.stores.errors import StoreIntegrityError
from aico_secure.stores.rocksdb import META_CF, RECORDS_CF, RocksDbStore

from .conftest import RecordingSink


def _raw(directory: Path) -> rocksdict.Rdict:
    opts = rocksdict.Options(raw_mode=True)
    return rocksdict.Rdict(str(directory), opts, column_families={RECORDS_CF: rocksdict.Options(raw_mode=True),
                                                                 META_CF: rocksdict.Options(raw_mode=True)})


def test_names_are_blinded_and_values_sealed(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with RocksDbStore.open(keyring, tmp_path / "r") as store:
        store.put("user:alice/session", b"SECRET-VALUE")
    db = _raw(tmp_path / "r")
    try:
        items = list(db.get_column_family(RECORDS_CF).items())
    finally:
        db.close()
    assert len(items) == 1
    stored_key, sealed = items[0]
    assert isinstance(stored_key, bytes) and isinstance(sealed, bytes)
    assert len(stored_key) == 16 and b"alice" not in stored_key
    assert b"SECRET-VALUE" not in sealed and b"alice" not in sealed


def test_value_moved_to_another_column_family_fails(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with RocksDbStore.open(keyring, tmp_path / "r") as store:
        store.put("a", b"1")
    db = _raw(tmp_path / "r")
    try:
        records = db.get_column_family(RECORDS_CF)
        _stored_key, sealed = next(iter(records.items()))
        meta = db.get_column_family(META_CF)
        meta[b"store"] = sealed  # a record's value planted as the store header
        del records, meta
    finally:
        db.close()
    with pytest.raises(StoreIntegrityError):
        RocksDbStore.open(keyring, tmp_path / "r")


def test_rotation_keeps_names_and_reencrypt_moves_values(keyring: UnlockedKeyring, tmp_path: Path,
                                                         sink: RecordingSink) -> None:
    with RocksDbStore.open(keyring, tmp_path / "r", audit=sink) as store:
        store.put("a", b"1")
        first = store.data_key_id
        store.rotate_data_key()
        store.put("b", b"2")
        assert store.get("a") == b"1" and store.get("b") == b"2"
        assert store.reencrypt() == 2
    old = keyring.data_key("rocksdb", bytes.fromhex(first))
    assert old is not None
    db = _raw(tmp_path / "r")
    try:
        key_ids = {v[1:9] for _k, v in db.get_column_family(RECORDS_CF).items()}
    finally:
        db.close()
    assert key_ids == {keyring.active_data_key("rocksdb").key_id}
    assert {e.action for e in sink.events} >= {"write", "read", "rotate_dek", "reencrypt"}


def test_compression_and_blob_files_are_on(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with RocksDbStore.open(keyring, tmp_path / "r") as store:
        store.put("a", b"1" * 100)
    options = max((tmp_path / "r").glob("OPTIONS-*")).read_text()
    assert "compression=kLZ4Compression" in options
    assert "enable_blob_files=true" in options


def test_compaction_drops_deleted_values_from_blob_files(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with RocksDbStore.open(keyring, tmp_path / "r") as store:
        store.put("keep", b"KEEP-CANARY")
        store.put("drop", b"DROP-CANARY")
    image = b"".join(forensics.image("rocksdb", keyring, tmp_path / "r").values())
    assert b"DROP-CANARY" in image
    with RocksDbStore.open(keyring, tmp_path / "r") as store:
        store.delete("drop")
        store.compact()
    image = b"".join(forensics.image("rocksdb", keyring, tmp_path / "r").values())
    assert b"KEEP-CANARY" in image and b"DROP-CANARY" not in image


@settings(max_examples=budget(DISK), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.dictionaries(st.text(min_size=1, max_size=40).filter(lambda s: "\0" not in s),
                             st.binary(max_size=300), max_size=12))
def test_round_trip_of_arbitrary_records(keyring: UnlockedKeyring, tmp_path_factory: pytest.TempPathFactory,
                                        items: dict[str, bytes]) -> None:
    directory = tmp_path_factory.mktemp("rt")
    with RocksDbStore.open(keyring, directory) as store:
        for key, value in items.items():
            store.put(key, value)
    with RocksDbStore.open(keyring, directory) as store:
        assert {k: store.get(k) for k in items} == items
        assert store.keys() == sorted(items)


def test_plain_names_mode_is_remembered(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with RocksDbStore.open(keyring, tmp_path / "r", blind_names=False) as store:
        store.put("visible-name", b"v")
    with RocksDbStore.open(keyring, tmp_path / "r", blind_names=True) as store:  # the stored choice wins
        assert store.get("visible-name") == b"v"


def test_rollback_to_an_older_copy_is_refused(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    """RocksDB accepts an older copy of itself (or a truncated MANIFEST) silently; the sealed high-water mark
    written on close does not."""
    import shutil

    directory = tmp_path / "r"
    with RocksDbStore.open(keyring, directory) as store:
        store.put("a", b"1")
    shutil.copytree(directory, tmp_path / "old")
    with RocksDbStore.open(keyring, directory) as store:
        store.put("b", b"2")
        store.compact()
    old_engine_files = [p for p in (tmp_path / "old").iterdir() if p.name != "aico-high-water"]
    for path in directory.iterdir():
        if path.name != "aico-high-water":
            path.unlink() if path.is_file() else shutil.rmtree(path)
    for path in old_engine_files:
        shutil.copy2(path, directory / path.name)
    with pytest.raises(StoreIntegrityError):
        RocksDbStore.open(keyring, directory)
