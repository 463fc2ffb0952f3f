"""DuckDB store internals: WAL and spill files encrypted (observed while the engine writes them), rebuilds that
survive interruption, block forensics, and no key text in errors."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import zstandard

from aico_secure.keys import UnlockedKeyring
from aico_secure.stores import forensics
from aico_secure.stores.duckdb import FILENAME, REBUILDING, TEMP_DIR, WAL_SUFFIX, DuckDbStore, attach, connect
from aico_secure.stores.errors import StoreIntegrityError

CANARY = b"SPILL-CANARY-7f3e"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class _TempWatcher:
    """Copies every file that appears in a temp directory while a query runs (DuckDB deletes them after)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.seen: dict[str, bytes] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for path in self.directory.rglob("*"):
                try:
                    data = path.read_bytes() if path.is_file() else b""
                except OSError:
                    continue
                if len(data) > len(self.seen.get(path.name, b"")):
                    self.seen[path.name] = data
            time.sleep(0.002)

    def __enter__(self) -> _TempWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _spill(conn: object, alias: str) -> None:
    """Sort 200k rows in 40 MB. Each row is the canary plus 128 pseudo-random bytes, so DuckDB's compression
    of temporary buffers cannot shrink them and spills them as they are (visible, unless encrypted)."""
    noise = " || ".join(f"unhex(md5(i::VARCHAR || '{n}'))" for n in range(8))
    conn.execute(f"CREATE TABLE {alias}.big AS SELECT i, ('{CANARY.decode()}-' || i::VARCHAR)::BLOB || {noise} AS v "  # type: ignore[attr-defined]
                 "FROM range(200000) t(i)")
    conn.execute(f"SELECT v FROM {alias}.big ORDER BY v DESC").fetchall()  # type: ignore[attr-defined]


def _zstd_frames(data: bytes) -> int:
    """How many decodable zstd frames ``data`` holds (DuckDB compresses temporary buffers with zstd)."""
    count, at = 0, data.find(ZSTD_MAGIC)
    while at >= 0:
        try:
            zstandard.ZstdDecompressor().decompressobj().decompress(data[at:at + (1 << 19)])
            count += 1
        except zstandard.ZstdError:
            pass
        at = data.find(ZSTD_MAGIC, at + 1)
    return count


@pytest.mark.parametrize(("encrypt_db", "encrypt_temp"), [(True, None), (True, False), (False, False)],
                         ids=["reference", "control-temp-encryption-off", "control-plaintext-db"])
def test_spill_files_are_encrypted(keyring: UnlockedKeyring, tmp_path: Path, encrypt_db: bool,
                                   encrypt_temp: bool | None) -> None:
    """The reference settings (``connect``'s defaults, as the store calls it) leave nothing readable in spill
    files; the two controls show the check can see plaintext spills (raw canaries) and compressed-but-unencrypted
    ones (decodable zstd frames)."""
    temp = tmp_path / TEMP_DIR
    temp.mkdir()
    if encrypt_temp is None:
        conn = connect(temp, memory_limit="40MB")
    else:
        conn = connect(temp, memory_limit="40MB", encrypt_temp=encrypt_temp)
    conn.execute("SET threads = 1")
    attach(conn, tmp_path / "spill.duckdb", "s", keyring.active_data_key("duckdb") if encrypt_db else None)
    with _TempWatcher(temp) as watcher:
        _spill(conn, "s")
    conn.close()
    spilled = sum(len(d) for d in watcher.seen.values())
    assert spilled > 0, "nothing spilled: the query did not exercise temp files"
    canaries = sum(data.count(CANARY) for data in watcher.seen.values())
    frames = sum(_zstd_frames(data) for data in watcher.seen.values())
    print(f"spilled {spilled} bytes: {canaries} raw canaries, {frames} readable zstd frames")
    if encrypt_db and encrypt_temp is not False:
        assert canaries == 0 and frames == 0
    elif encrypt_db:
        assert frames > 0, "control: with temp_file_encryption off, spilled buffers are readable zstd frames"
    else:
        assert canaries + frames > 0, "control: a plaintext database spills readable data"


def test_wal_is_encrypted(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with DuckDbStore.open(keyring, tmp_path / "d") as store:
        for i in range(30):
            store.put(f"k{i}", CANARY + b"-%d" % i)
        wal = tmp_path / "d" / (FILENAME + WAL_SUFFIX)
        assert wal.exists() and wal.stat().st_size > 0, "no WAL to check"
        assert CANARY not in wal.read_bytes()


def test_block_forensics_sees_live_and_not_rebuilt_away_rows(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with DuckDbStore.open(keyring, tmp_path / "d") as store:
        store.put("keep", b"KEEP-" + CANARY)
        store.put("drop", b"DROP-" + CANARY)
    keys = [k.secret.reveal() for k in keyring.data_keys("duckdb")]
    data = (tmp_path / "d" / FILENAME).read_bytes()
    assert b"DROP-" + CANARY in forensics.duckdb_plaintext(data, keys)
    with DuckDbStore.open(keyring, tmp_path / "d") as store:
        store.delete("drop")
        store.compact()
        assert store.sql("SELECT count(*) FROM store.records") == [(1,)]
    data = (tmp_path / "d" / FILENAME).read_bytes()
    plain = forensics.duckdb_plaintext(data, keys)
    assert b"KEEP-" + CANARY in plain and b"DROP-" + CANARY not in plain


def test_interrupted_rebuild_leaves_the_old_file_authoritative(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    directory = tmp_path / "d"
    with DuckDbStore.open(keyring, directory) as store:
        store.put("k", b"v")
    (directory / REBUILDING).write_bytes(b"a half-copied database")
    with DuckDbStore.open(keyring, directory) as store:
        assert store.get("k") == b"v"
    assert not (directory / REBUILDING).exists()


def test_rotation_rebuilds_under_the_new_key(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    directory = tmp_path / "d"
    with DuckDbStore.open(keyring, directory) as store:
        store.put("k", b"v")
        old = store.data_key_id
        store.rotate_data_key()
        assert store.data_key_id != old and store.get("k") == b"v"
    old_key = keyring.data_key("duckdb", bytes.fromhex(old))
    assert old_key is not None
    assert forensics.duckdb_plaintext((directory / FILENAME).read_bytes(), [old_key.secret.reveal()]) == b""


def test_errors_carry_no_key_text(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    directory = tmp_path / "d"
    with DuckDbStore.open(keyring, directory) as store:
        store.put("k", b"v")
    data = bytearray((directory / FILENAME).read_bytes())
    data[4096 + 64] ^= 0xFF
    (directory / FILENAME).write_bytes(bytes(data))
    with pytest.raises(StoreIntegrityError) as caught:
        DuckDbStore.open(keyring, directory)
    text = str(caught.value)
    for key in keyring.data_keys("duckdb"):
        import base64

        assert key.secret.reveal().hex() not in text and base64.b64encode(key.secret.reveal()).decode() not in text
