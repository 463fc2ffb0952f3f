"""Ciphertext and randomness are clean; a scan that read nothing is not."""

from __future__ import annotations

import os
from pathlib import Path

import sqlcipher3

from aico_secure import envelope
from aico_secure.envelope import RecordContext
from aico_secure.keys import Keyring
from verification.inspector.conftest import Inspect


def test_random_bytes_are_clean(tmp_path: Path, inspect: Inspect, canary: str, key: bytes) -> None:
    (tmp_path / "random.bin").write_bytes(os.urandom(8 << 20))
    result = inspect(canaries=[canary], keys=[("k", key)], vectors=[[0.25, -0.5, 0.125, 0.75] * 8])
    assert result.clean and result.files_read == 1 and result.bytes_read == 8 << 20


def test_sqlcipher_database_is_clean(tmp_path: Path, inspect: Inspect, canary: str, key: bytes) -> None:
    con = sqlcipher3.connect(str(tmp_path / "libsql.db"))
    con.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    con.execute("CREATE TABLE notes (body TEXT)")
    con.executemany("INSERT INTO notes VALUES (?)", [(f"{canary} {i}",) for i in range(2000)])
    con.commit()
    con.close()
    result = inspect(canaries=[canary], keys=[("sqlcipher", key)])
    assert result.clean, result.findings[:3]
    assert not any(o.detector == "sqlite" for o in result.observations), "an SQLCipher file looked like SQLite"


def test_sealed_envelopes_are_clean(tmp_path: Path, inspect: Inspect, canary: str) -> None:
    keyring = Keyring.create(tmp_path / "keys" / "keyring.json", "pw-" + os.urandom(8).hex(), profile="test")
    dek = keyring.active_data_key("libsql")
    with (tmp_path / "records.bin").open("wb") as fh:
        for i in range(100):
            fh.write(envelope.seal(dek, f"{canary} #{i}".encode(), RecordContext("libsql", "notes", str(i).encode())))
    result = inspect(canaries=[canary], keys=[("dek", dek.secret.reveal())])
    assert result.clean, result.findings[:3]


def test_an_empty_directory_is_not_clean(tmp_path: Path, inspect: Inspect, canary: str) -> None:
    result = inspect(canaries=[canary])
    assert result.files_read == 0 and not result.clean
