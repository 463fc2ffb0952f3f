"""Damage that contract-level fuzzing of the reference build found answered outside the contract, pinned here:
a page of the libSQL store that fails its HMAC after open raised ``MemoryError`` (SQLCipher reports it as
SQLITE_NOMEM) from ``get``, and a damaged RocksDB blob file made ``keys()`` list fewer records instead of being
refused (the engine's ``items()`` iterator ends quietly at a block that fails its checksum)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.conform.passphrases import passphrase
from aico_secure.reference import build
from aico_secure.target import IntegrityViolation, KeySession, RecordStore

RECORDS = {f"key-{i:02d}": f"record {i} ".encode() * (2 + i % 5) + bytes([i]) * (20 + 7 * i) for i in range(12)}


@pytest.fixture
def session(tmp_path: Path) -> KeySession:
    keys = build().keys
    assert keys is not None
    return keys.create(tmp_path / "keys", passphrase(), fast_kdf=True)


def _written(store: str, session: KeySession, directory: Path) -> None:
    opened = build().stores[store].open(session, directory)
    assert isinstance(opened, RecordStore)
    for key, value in RECORDS.items():
        opened.put(key, value)
    opened.close()


def _read_everything(store: str, session: KeySession, directory: Path) -> list[str]:
    """What was read back wrong; a refusal anywhere is fine, any other exception propagates (the failure)."""
    try:
        opened = build().stores[store].open(session, directory)
    except IntegrityViolation:
        return []
    assert isinstance(opened, RecordStore)
    wrong = []
    try:
        for key, value in RECORDS.items():
            try:
                if opened.get(key) != value:
                    wrong.append(key)
            except IntegrityViolation:
                continue
        try:
            if sorted(opened.keys()) != sorted(RECORDS):
                wrong.append("keys()")
        except IntegrityViolation:
            pass
    finally:
        opened.close()
    return wrong


@pytest.mark.parametrize("from_end", [100, 1000, 3000])
def test_libsql_page_failing_its_hmac_after_open_is_refused(session: KeySession, tmp_path: Path,
                                                            from_end: int) -> None:
    directory = tmp_path / "libsql"
    _written("libsql", session, directory)
    path = directory / "libsql.db"
    data = bytearray(path.read_bytes())
    data[len(data) - from_end] ^= 0x40
    path.write_bytes(bytes(data))
    assert _read_everything("libsql", session, directory) == []


@pytest.mark.parametrize("at", [0.3, 0.5, 0.8])
def test_rocksdb_damaged_blob_is_refused_not_listed_short(session: KeySession, tmp_path: Path, at: float) -> None:
    directory = tmp_path / "rocksdb"
    _written("rocksdb", session, directory)
    blobs = sorted(directory.glob("*.blob"), key=lambda p: -p.stat().st_size)
    assert blobs, "the records are expected in blob files"
    data = bytearray(blobs[0].read_bytes())
    data[int(len(data) * at)] ^= 0x40
    blobs[0].write_bytes(bytes(data))
    assert _read_everything("rocksdb", session, directory) == []
