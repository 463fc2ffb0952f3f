"""What someone holding a store's keys could recover from its files, stale pages and blocks included.

Why: in an encrypted store, "the deleted canary is in no file" is true from the first write, so scanning the
raw files cannot show that deletion is real. These functions decrypt every page, block or sealed value found
in each file *without* the engine (so free pages, superseded WAL frames, old SST and blob files are covered)
and return the plaintext, one entry per file, for the inspector to search. A canary found here after
delete-and-compact means the ciphertext of deleted data is still on disk, readable to anyone who later
obtains the key.

Formats decoded, per store:

* libsql: SQLCipher 4 pages (AES-256-CBC, IV in the page's reserved tail) of the database file and of every
  WAL frame, under every libsql data key of the keyring.
* duckdb: the database file's encrypted blocks (12-byte nonce, 16-byte tag, AES-GCM under
  SHA-256(salt || key), salt found by checking the header block's tag). DuckDB's WAL entries and its spill
  files (under an ephemeral per-process key) are returned raw: a rebuild leaves no WAL behind.
* rocksdb, chroma: every AEAD envelope of the purpose found in the bytes (and, for Chroma, in base64 runs),
  decrypted from its nonce on (the GCM keystream, so a value cut short by a page boundary still shows).

The plaintext returned here is as sensitive as the data itself: it lives in memory only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from aico_secure.crypto.aead import InvalidTagError, aes_gcm_decrypt
from aico_secure.crypto.raw import cbc_decrypt_blocks, gcm_keystream_decrypt
from aico_secure.envelope import HEADER_BYTES, KEY_ID_BYTES, VERSION
from aico_secure.keys import UnlockedKeyring

SQLCIPHER_PAGE = 4096
SQLCIPHER_RESERVE = 80  # IV (16) + HMAC-SHA512 (64)
SQLCIPHER_SALT = 16
WAL_HEADER = 32
WAL_FRAME_HEADER = 24
DUCKDB_HEADER = 4096
DUCKDB_FIRST_BLOCK = 3 * DUCKDB_HEADER
DUCKDB_BLOCK_SIZES = (262144, 16384, 32768, 65536, 131072, 524288, 1048576)
DUCKDB_NONCE, DUCKDB_TAG, DUCKDB_PAD = 12, 16, 4
ENVELOPE_WINDOW = 1 << 16
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{40,}={0,2}")
_SEPARATOR = b"\n--\n"


def _files(directory: Path) -> Iterator[Path]:
    for path in sorted(Path(directory).rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _secrets(keyring: UnlockedKeyring, purpose: str) -> list[tuple[bytes, bytes]]:
    return [(k.key_id, k.secret.reveal()) for k in keyring.data_keys(purpose)]


# ---- SQLCipher --------------------------------------------------------------------------------------------
def _sqlcipher_page(key: bytes, page: bytes, first: bool) -> bytes:
    if len(page) < SQLCIPHER_RESERVE + SQLCIPHER_SALT:
        return b""
    iv = page[len(page) - SQLCIPHER_RESERVE:len(page) - SQLCIPHER_RESERVE + 16]
    return cbc_decrypt_blocks(key, iv, page[SQLCIPHER_SALT if first else 0:len(page) - SQLCIPHER_RESERVE])


def sqlcipher_plaintext(data: bytes, keys: Iterable[bytes], *, wal: bool, page_size: int = SQLCIPHER_PAGE) -> bytes:
    """Every page of a SQLCipher database or WAL file, decrypted under each key in ``keys``."""
    pages: list[tuple[bytes, bool]] = []
    if wal:
        offset = WAL_HEADER
        while offset + WAL_FRAME_HEADER + page_size <= len(data):
            number = int.from_bytes(data[offset:offset + 4], "big")
            start = offset + WAL_FRAME_HEADER
            pages.append((data[start:start + page_size], number == 1))
            offset = start + page_size
    else:
        pages = [(data[i:i + page_size], i == 0) for i in range(0, len(data), page_size)]
    return b"".join(_sqlcipher_page(key, page, first) for key in keys for page, first in pages)


# ---- DuckDB -----------------------------------------------------------------------------------------------
def _duckdb_block_key(data: bytes, user_key: bytes) -> bytes | None:
    """The block key DuckDB derived from ``user_key``: SHA-256(salt || key), the salt being the 16 bytes of the
    main header for which the first database header's GCM tag verifies."""
    header = data[DUCKDB_HEADER:2 * DUCKDB_HEADER]
    if len(header) < DUCKDB_HEADER:
        return None
    nonce, tag = header[:DUCKDB_NONCE], header[DUCKDB_NONCE:DUCKDB_NONCE + DUCKDB_TAG]
    body = header[DUCKDB_NONCE + DUCKDB_TAG + DUCKDB_PAD:]
    for offset in range(0, 512 - 16):
        candidate = hashlib.sha256(data[offset:offset + 16] + user_key).digest()
        try:
            aes_gcm_decrypt(candidate, nonce, body + tag, b"")
        except InvalidTagError:
            continue
        return candidate
    return None


def _duckdb_block(key: bytes, block: bytes) -> bytes:
    start = DUCKDB_NONCE + DUCKDB_TAG + DUCKDB_PAD
    if len(block) <= start:
        return b""
    return gcm_keystream_decrypt(key, block[:DUCKDB_NONCE], block[start:])


def _duckdb_block_size(key: bytes, data: bytes) -> int:
    for size in DUCKDB_BLOCK_SIZES:
        block = data[DUCKDB_FIRST_BLOCK:DUCKDB_FIRST_BLOCK + size]
        if len(block) < size:
            continue
        start = DUCKDB_NONCE + DUCKDB_TAG + DUCKDB_PAD
        tag = block[DUCKDB_NONCE:DUCKDB_NONCE + DUCKDB_TAG]
        try:
            aes_gcm_decrypt(key, block[:DUCKDB_NONCE], block[start:] + tag, b"")
        except InvalidTagError:
            continue
        return size
    return DUCKDB_BLOCK_SIZES[0]


def duckdb_plaintext(data: bytes, keys: Iterable[bytes]) -> bytes:
    """Both database headers and every block of a DuckDB file, decrypted under whichever key fits."""
    out = []
    for user_key in keys:
        block_key = _duckdb_block_key(data, user_key)
        if block_key is None:
            continue
        out.append(_duckdb_block(block_key, data[DUCKDB_HEADER:2 * DUCKDB_HEADER]))
        out.append(_duckdb_block(block_key, data[2 * DUCKDB_HEADER:DUCKDB_FIRST_BLOCK]))
        size = _duckdb_block_size(block_key, data)
        for offset in range(DUCKDB_FIRST_BLOCK, len(data), size):
            out.append(_duckdb_block(block_key, data[offset:offset + size]))
    return b"".join(out)


# ---- AEAD envelopes (RocksDB, Chroma) ---------------------------------------------------------------------
def envelope_plaintext(data: bytes, keys: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Every envelope of one of ``keys`` found in ``data``, decrypted from its nonce on (up to 64 KiB)."""
    out = []
    for key_id, secret in keys:
        marker = bytes([VERSION]) + key_id
        at = data.find(marker)
        while at >= 0:
            nonce = data[at + 1 + KEY_ID_BYTES:at + HEADER_BYTES]
            body = data[at + HEADER_BYTES:at + HEADER_BYTES + ENVELOPE_WINDOW]
            if len(nonce) == 12 and body:
                out.append(gcm_keystream_decrypt(secret, nonce, body))
            at = data.find(marker, at + 1)
    return _SEPARATOR.join(out)


def base64_runs(data: bytes) -> Iterator[bytes]:
    """Bytes decoded from every long base64 run in ``data``, at each of the four possible alignments."""
    for match in _BASE64_RUN.finditer(data):
        run = match.group().rstrip(b"=")
        for shift in range(4):
            chunk = run[shift:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                yield base64.b64decode(chunk, validate=True)
            except (binascii.Error, ValueError):
                continue


# ---- per store --------------------------------------------------------------------------------------------
def image(store: str, keyring: UnlockedKeyring, directory: Path) -> dict[str, bytes]:
    """``{relative path: recovered plaintext}`` for every file of a closed store of kind ``store``."""
    directory = Path(directory)
    keys = _secrets(keyring, store)
    secrets = [secret for _kid, secret in keys]
    result: dict[str, bytes] = {}
    for path in _files(directory):
        data = path.read_bytes()
        name = str(path.relative_to(directory))
        if store == "libsql" and path.name.endswith((".db", ".db-wal")):
            recovered = sqlcipher_plaintext(data, secrets, wal=path.name.endswith("-wal"))
        elif store == "duckdb" and path.name.endswith(".duckdb"):
            recovered = duckdb_plaintext(data, secrets)
        elif store == "chroma":
            decoded = _SEPARATOR.join(base64_runs(data))
            recovered = envelope_plaintext(data, keys) + _SEPARATOR + envelope_plaintext(decoded, keys)
        else:
            recovered = envelope_plaintext(data, keys)
        result[name] = data + _SEPARATOR + recovered
    return result
