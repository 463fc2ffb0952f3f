"""Reading what a store's files say about their encryption, with no key and none of the build's code.

Used by ``test_dar_declared_format.py`` (AICO-DAR-009). Each reader knows one public on-disk format, not any
build: SQLCipher's page layout, DuckDB's main header, and the two plaintext containers sealed values are kept in
(RocksDB, SQLite), which the suite opens read-only on a copy with the engines' own libraries.
"""

from __future__ import annotations

import base64
import binascii
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from aico_secure.target import IntegrityViolation, KeySession, StoreCapability

from ._support import Workload, mismatches, open_store

SQLITE_HEADER = b"SQLite format 3\x00"
SQLCIPHER_SALT = 16
SQLCIPHER_IV = 16
AES_BLOCK = 16
MAC_BYTES = {"HMAC-SHA1": 20, "HMAC-SHA256": 32, "HMAC-SHA512": 64}
SIDE_FILES = ("-wal", "-shm", "-journal")

DUCKDB_MAGIC = b"DUCK"
DUCKDB_MAGIC_AT = 8
DUCKDB_FLAGS_AT = 20  # flags[0], little-endian; bit 0: the database is encrypted
DUCKDB_METADATA_AT = 116  # 8 bytes of encryption metadata: [2] the cipher, [4] the key length in bytes
DUCKDB_CIPHERS = {1: "GCM", 2: "CTR", 3: "CBC"}
DUCKDB_HEADERS = 3 * 4096  # the main header and the two database headers precede the first block

# Modes whose ciphertext is as long as the plaintext plus a constant (a nonce, a tag), and modes that pad to the
# block size. A declared mode in neither list cannot be compared with the lengths on disk.
LENGTH_PRESERVING = {"GCM", "CTR", "CCM", "EAX", "OCB", "SIV", "GCM-SIV", "CHACHA20-POLY1305",
                     "XCHACHA20-POLY1305"}
BLOCK_PADDED = {"CBC", "ECB"}
_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]{16,}={0,2}$")
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2}){16,}$")


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and not p.is_symlink())


# ---- SQLCipher ----------------------------------------------------------------------------------------------
def sqlcipher_database(directory: Path) -> Path | None:
    """The store's database file: its largest file that is not a WAL, shared-memory or journal file."""
    candidates = [p for p in files_under(directory) if not p.name.endswith(SIDE_FILES)]
    return max(candidates, key=lambda p: p.stat().st_size, default=None)


def sqlcipher_reserve(mac: str | None) -> int:
    """Bytes at the end of every page that are not page data: the IV, then the MAC, rounded up to AES blocks."""
    size = SQLCIPHER_IV + (MAC_BYTES[mac.upper()] if mac else 0)
    return -(-size // AES_BLOCK) * AES_BLOCK


def page_data_middles(length: int, page_size: int, reserve: int) -> list[int]:
    """For each page, the offset of the middle of its data region (after the salt on the first page, before the
    reserve on every page): a bit flipped there changes page data, never the IV or the MAC."""
    offsets = []
    for number in range(length // page_size):
        start = number * page_size + (SQLCIPHER_SALT if number == 0 else 0)
        end = (number + 1) * page_size - reserve
        offsets.append((start + end) // 2)
    return offsets


def flip_refused(store: StoreCapability, session: KeySession, pristine: Path, trial: Path, relative: Path,
                  offset: int, workload: Workload) -> bool:
    """Flip one bit of a copy of the store and open and read everything: True if the store refused."""
    shutil.copytree(pristine, trial)
    try:
        target = trial / relative
        data = bytearray(target.read_bytes())
        data[offset] ^= 0x01
        target.write_bytes(bytes(data))
        try:
            opened = open_store(store, session, trial)
        except IntegrityViolation:
            return True
        try:
            mismatches(opened, workload)
        except IntegrityViolation:
            return True
        finally:
            opened.close()
        return False
    finally:
        shutil.rmtree(trial, ignore_errors=True)


# ---- DuckDB -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DuckDbHeader:
    path: Path
    encrypted: bool
    cipher: str  # "GCM", "CTR", "CBC" or "unknown (n)"
    key_bits: int
    blocks_bytes: int  # the file's length after its three headers


def duckdb_headers(directory: Path) -> list[DuckDbHeader]:
    """The main header of every DuckDB database file under ``directory`` (files with DuckDB's magic bytes)."""
    found = []
    for path in files_under(directory):
        with path.open("rb") as fh:
            head = fh.read(DUCKDB_METADATA_AT + 8)
        if len(head) < DUCKDB_METADATA_AT + 8 or head[DUCKDB_MAGIC_AT:DUCKDB_MAGIC_AT + 4] != DUCKDB_MAGIC:
            continue
        flags = int.from_bytes(head[DUCKDB_FLAGS_AT:DUCKDB_FLAGS_AT + 8], "little")
        metadata = head[DUCKDB_METADATA_AT:DUCKDB_METADATA_AT + 8]
        cipher = DUCKDB_CIPHERS.get(metadata[2], f"unknown ({metadata[2]})")
        found.append(DuckDbHeader(path, bool(flags & 1), cipher, metadata[4] * 8,
                                  path.stat().st_size - DUCKDB_HEADERS))
    return found


# ---- sealed values in plaintext containers ------------------------------------------------------------------
class UnreadableContainer(Exception):
    """The suite cannot read the declared container (unknown kind, or the files are not one)."""


def rocksdict_module() -> ModuleType:
    """The suite's RocksDB reader. rocksdict comes with ``aico-secure[reference]``, not with the core install: a
    build with a RocksDB store judged without it fails the checks that read its files, with this reason; it is
    never excused from them."""
    try:
        import rocksdict
    except ModuleNotFoundError:
        raise UnreadableContainer("reading a RocksDB store's files needs rocksdict, which this install of "
                                  "aico-secure lacks: pip install 'aico-secure[reference]'") from None
    return rocksdict


def _decoded_length(text: str) -> int | None:
    if _HEX.match(text):
        return len(text) // 2
    if _BASE64.match(text):
        padded = text.replace("-", "+").replace("_", "/")
        try:
            return len(base64.b64decode(padded + "=" * (-len(padded) % 4), validate=True))
        except (binascii.Error, ValueError):
            return None
    return None


def _sqlite_values(path: Path) -> Iterator[int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            try:
                rows = conn.execute(f'SELECT * FROM "{table.replace(chr(34), chr(34) * 2)}"').fetchall()
            except sqlite3.DatabaseError:
                continue  # a virtual table whose module this sqlite3 lacks: it holds no sealed value of ours
            for row in rows:
                for value in row:
                    if isinstance(value, bytes):
                        yield len(value)
                    elif isinstance(value, str):
                        decoded = _decoded_length(value)
                        if decoded is not None:
                            yield decoded
    finally:
        conn.close()


def _rocksdb_values(directory: Path) -> Iterator[int]:
    rocksdict = rocksdict_module()
    try:
        families = rocksdict.Rdict.list_cf(str(directory))
    except Exception as exc:  # noqa: BLE001 - rocksdict raises bare Exception
        raise UnreadableContainer(f"{directory} does not open as a RocksDB database ({exc})") from None
    options = {name: rocksdict.Options(raw_mode=True) for name in families if name != "default"}
    db = rocksdict.Rdict(str(directory), rocksdict.Options(raw_mode=True), column_families=options,
                         access_type=rocksdict.AccessType.read_only())
    try:
        for name in families:
            family = db.get_column_family(name)
            for _key, value in family.items():
                yield len(value)
    finally:
        db.close()


def sealed_lengths(directory: Path, container: str | None) -> list[int]:
    """The length of every value stored in the container(s) under ``directory`` (text that is base64 or hex is
    counted decoded), read from a copy, so the store's own files are never touched."""
    with tempfile.TemporaryDirectory(prefix="aico-container-") as scratch:
        copy = Path(scratch) / "copy"
        shutil.copytree(directory, copy)
        if container == "rocksdb":
            return list(_rocksdb_values(copy))
        if container == "sqlite":
            databases = [p for p in files_under(copy) if p.read_bytes()[:len(SQLITE_HEADER)] == SQLITE_HEADER]
            if not databases:
                raise UnreadableContainer(f"no SQLite database under {directory}")
            return [n for path in databases for n in _sqlite_values(path)]
    raise UnreadableContainer(f"container {container!r} is not one the suite can read (rocksdb, sqlite)")


def longest_run(lengths: Iterable[int]) -> tuple[int, int]:
    """The longest run of consecutive integers among ``lengths``: (first, count)."""
    present = sorted(set(lengths))
    best, start = (0, 0), None
    for i, value in enumerate(present):
        if i == 0 or value != present[i - 1] + 1:
            start = value
        assert start is not None
        if value - start + 1 > best[1]:
            best = (start, value - start + 1)
    return best


def longest_progression(lengths: Iterable[int], step: int) -> int:
    """The most terms of an arithmetic progression with difference ``step`` found among ``lengths``."""
    present = set(lengths)
    best = 0
    for value in present:
        if value - step in present:
            continue
        count = 1
        while value + count * step in present:
            count += 1
        best = max(best, count)
    return best
