"""The RocksDB store's fast sealing path: same bytes on disk as the one-shot envelope, no key past close.

The store caches one Sealer per data key and a Blinder for names; these tests hold it to the format every
other reader (open_sealed, the inspector, an older release) expects, and to dropping those caches.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rocksdict

from aico_secure import envelope
from aico_secure.crypto.subkeys import blind, derive_subkey
from aico_secure.envelope import RecordContext
from aico_secure.keys import UnlockedKeyring
from aico_secure.stores.errors import StoreClosedError, StoreIntegrityError
from aico_secure.stores.rocksdb import RECORDS_CF, RocksDbStore, engine_options, open_sealed


def _raw_records(directory: Path) -> dict[bytes, bytes]:
    db = rocksdict.Rdict(str(directory), engine_options(), column_families={RECORDS_CF: engine_options(),
                                                                            "meta": engine_options()},
                         access_type=rocksdict.AccessType.read_only())
    try:
        return dict(db.get_column_family(RECORDS_CF).items())
    finally:
        db.close()


def test_batched_and_single_writes_are_one_shot_envelopes(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with RocksDbStore.open(keyring, tmp_path / "db") as store:
        store.put_many([(f"batch-{i}", bytes([i]) * 300) for i in range(50)])
        store.put("single", b"one")
    names_key = derive_subkey(keyring.active_data_key("rocksdb").secret, "rocksdb/names")
    records = _raw_records(tmp_path / "db")
    assert len(records) == 51
    nonces = set()
    for stored, sealed in records.items():
        payload = open_sealed(keyring, RECORDS_CF, stored, sealed, tmp_path)
        size = int.from_bytes(payload[:4], "big")
        assert blind(names_key, payload[4:4 + size]) == stored
        nonces.add(sealed[9:21])
    assert len(nonces) == len(records)


def test_records_sealed_by_the_one_shot_envelope_still_open(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with RocksDbStore.open(keyring, tmp_path / "db", blind_names=False) as store:
        store.put("k", b"placeholder")
    db = rocksdict.Rdict(str(tmp_path / "db"), engine_options(), column_families={RECORDS_CF: engine_options(),
                                                                                   "meta": engine_options()})
    sealed = envelope.seal(keyring.active_data_key("rocksdb"), b"old path",
                           RecordContext(store="rocksdb", collection=RECORDS_CF, record_key=b"k"))
    db.get_column_family(RECORDS_CF).put(b"k", sealed)
    db.close()
    with RocksDbStore.open(keyring, tmp_path / "db") as store:
        assert store.get("k") == b"old path"


def test_a_retired_key_is_not_served_from_the_cache(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    store = RocksDbStore.open(keyring, tmp_path / "db", blind_names=False)
    store.put("old", b"under the first key")
    first = keyring.active_data_key("rocksdb").key_id
    assert store.get("old") == b"under the first key"  # its Sealer is now cached
    store.rotate_data_key()
    raw = store._records.get(b"old")  # the record as it was, sealed under the first key
    store.reencrypt()
    keyring.retire_dek("rocksdb", first)
    store._records.put(b"old", raw)  # roll the record back to its first-key envelope
    with pytest.raises(StoreIntegrityError):
        store.get("old")
    assert first not in store._sealers
    store.close()


def test_close_drops_every_cached_key(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    store = RocksDbStore.open(keyring, tmp_path / "db")
    store.put("a", b"1")
    assert store.get("a") == b"1" and store._sealers
    store.close()
    assert not store._sealers and store._blinder is None
    with pytest.raises(StoreClosedError):
        store.get("a")
    with pytest.raises(StoreClosedError):
        store.put_many([("b", b"2")])
