"""SQLCipher store internals: real cipher settings, WAL encrypted, tamper detection, rekey, page forensics."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlcipher3

from aico_secure.keys import UnlockedKeyring
from aico_secure.stores import forensics
from aico_secure.stores.errors import InvalidRecordError, StoreClosedError, StoreIntegrityError
from aico_secure.stores.sqlcipher import FILENAME, PLAINTEXT_SQLITE_HEADER, SqlCipherStore

from .conftest import RecordingSink


def test_cipher_settings_are_checked_not_assumed(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with SqlCipherStore.open(keyring, tmp_path / "db") as store:
        settings = store.cipher_settings()
        assert settings["cipher_use_hmac"] == "1"
        assert settings["cipher_hmac_algorithm"] in {"HMAC_SHA256", "HMAC_SHA512"}
        assert int(settings["cipher_page_size"]) >= 4096
        store.put("k", b"v")
        assert store.integrity_check() == []
    with (tmp_path / "db" / FILENAME).open("rb") as fh:
        assert fh.read(16) != PLAINTEXT_SQLITE_HEADER


def test_plaintext_sqlite_file_is_refused(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    directory = tmp_path / "db"
    directory.mkdir()
    conn = sqlcipher3.connect(str(directory / FILENAME))
    conn.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('store', 'libsql')")
    conn.commit()
    conn.close()
    keyring.active_data_key("libsql")
    with pytest.raises(StoreIntegrityError):
        SqlCipherStore.open(keyring, directory)


def test_wal_frames_are_encrypted_while_open(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with SqlCipherStore.open(keyring, tmp_path / "db") as store:
        for i in range(50):
            store.put(f"k{i}", b"WAL-CANARY-%d" % i * 10)
        wal = tmp_path / "db" / (FILENAME + "-wal")
        assert wal.stat().st_size > 0, "no WAL to check"
        raw = wal.read_bytes()
        assert b"WAL-CANARY" not in raw
        keys = [k.secret.reveal() for k in keyring.data_keys("libsql")]
        assert b"WAL-CANARY-7" in forensics.sqlcipher_plaintext(raw, keys, wal=True), "page decryption is off"


def test_flipped_page_byte_is_reported_by_the_page_hmac(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with SqlCipherStore.open(keyring, tmp_path / "db") as store:
        for i in range(200):
            store.put(f"k{i:03d}", bytes([i]) * 200)
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "db", copy)
    data = bytearray((copy / FILENAME).read_bytes())
    data[4096 * 3 + 100] ^= 0x01
    (copy / FILENAME).write_bytes(bytes(data))
    with pytest.raises(StoreIntegrityError):
        with SqlCipherStore.open(keyring, copy) as store:
            for i in range(200):
                store.get(f"k{i:03d}")


def test_rekey_moves_every_page_to_the_new_key(keyring: UnlockedKeyring, tmp_path: Path, sink: RecordingSink) -> None:
    with SqlCipherStore.open(keyring, tmp_path / "db", audit=sink) as store:
        store.put("before", b"PAGE-CANARY-1")
        old = store.data_key_id
        store.rotate_data_key()
        assert store.data_key_id != old
        store.put("after", b"PAGE-CANARY-2")
    data = (tmp_path / "db" / FILENAME).read_bytes()
    old_key = keyring.data_key("libsql", bytes.fromhex(old))
    assert old_key is not None
    assert b"PAGE-CANARY" not in forensics.sqlcipher_plaintext(data, [old_key.secret.reveal()], wal=False)
    with SqlCipherStore.open(keyring, tmp_path / "db") as store:
        assert store.get("before") == b"PAGE-CANARY-1" and store.get("after") == b"PAGE-CANARY-2"
        assert store.data_key_id != old
    assert any(e.action == "rotate_dek" and e.category == "crypto" for e in sink.events)


def test_interrupted_creation_is_cleared_not_refused(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    directory = tmp_path / "db"
    directory.mkdir()
    (directory / ".libsql.db.creating").write_bytes(b"half a database")
    with SqlCipherStore.open(keyring, directory) as store:
        store.put("k", b"v")
    assert not (directory / ".libsql.db.creating").exists()


def test_foreign_files_are_refused(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    directory = tmp_path / "db"
    directory.mkdir()
    (directory / "notes.txt").write_text("someone else's")
    with pytest.raises(StoreIntegrityError):
        SqlCipherStore.open(keyring, directory)


@pytest.mark.parametrize("key", ["", "a\0b", 3, "x" * 2000, "\udc80"])
def test_bad_keys_are_typed_errors(keyring: UnlockedKeyring, tmp_path: Path, key: object) -> None:
    with SqlCipherStore.open(keyring, tmp_path / "db") as store:
        with pytest.raises(InvalidRecordError):
            store.put(key, b"v")  # type: ignore[arg-type]


def test_closed_store_refuses_work(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    store = SqlCipherStore.open(keyring, tmp_path / "db")
    store.close()
    store.close()
    with pytest.raises(StoreClosedError):
        store.get("k")
