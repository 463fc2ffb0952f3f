"""The RocksDB key-value cache: every value sealed with the AEAD envelope, record names blinded on request.

Why application-level sealing: RocksDB has no encryption of its own that Python bindings expose, and the
cache holds sensitive values. Each value is sealed under the purpose's active data key with associated data
= (store, column family, stored key), so a value copied to another key or column family fails to open.

Names: with ``blind_names`` (the default, fixed when the store is created) the stored key is a keyed HMAC of
the caller's key, and the caller's key travels inside the sealed value, so ``keys()`` still works and nothing
on disk reveals it. The blinding key is derived from the data key that was active when the store was created
(its id is kept, sealed, in the ``meta`` column family), so rotating the data key does not move any record.

Layout: values go to blob files (BlobDB, ``min_blob_size=0``) and keys to LZ4-compressed SSTs. Blob files keep
each sealed value contiguous and are garbage-collected by a forced compaction, which is what ``compact`` runs
so deleted values leave the disk; compression stays on for both (it cannot shrink ciphertext, but costs
little and keeps the engine's defaults). rocksdict runs in raw mode: no pickle ever touches stored bytes.

Cost: per record, one HMAC (name) and one AES-GCM call, each dearer through Python than RocksDB's own work on a
small value. So the store keeps the key schedules (one ``Sealer`` per data key, one ``Blinder``) instead of
rebuilding them per record, draws a batch's nonces at once, and encodes the column family's part of the
associated data once; what is left is measured in docs/performance.md.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, Self

import rocksdict

from aico_secure import envelope
from aico_secure.audit.events import AuditSink
from aico_secure.crypto.subkeys import Blinder, derive_subkey
from aico_secure.envelope import CollectionContext, DataKey, RecordContext, Sealer
from aico_secure.errors import AicoSecureError
from aico_secure.keys import UnlockedKeyring
from aico_secure.keys.atomic import atomic_write
from aico_secure.stores._keycache import SealerCache
from aico_secure.stores.audit import StoreAudit
from aico_secure.stores.datakeys import has_keys
from aico_secure.stores.errors import StoreClosedError, StoreError, StoreIntegrityError
from aico_secure.stores.interface import RecordStore, check_key, check_value

STORE_KIND = "rocksdb"
RECORDS_CF = "records"
META_CF = "meta"
MARKER_FILE = "CURRENT"
HIGH_WATER_FILE = "aico-high-water"
_HIGH_WATER_CONTEXT = RecordContext(store="rocksdb", collection="store", record_key=b"high-water")
_META_STORE = b"store"
_META_NAMES = b"names"
_BLIND_LABEL = "rocksdb/names"
_RECORDS_CONTEXT = CollectionContext(store=STORE_KIND, collection=RECORDS_CF)
_NAME_LEN = struct.Struct(">I")


def engine_options(*, compression: bool = True) -> Any:
    """The options every column family and the DB use (shared with the benchmark's plaintext baseline)."""
    opts = rocksdict.Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.create_missing_column_families(True)
    opts.set_paranoid_checks(True)
    opts.set_keep_log_file_num(2)
    kind = rocksdict.DBCompressionType.lz4() if compression else rocksdict.DBCompressionType.none()
    opts.set_compression_type(kind)
    opts.set_enable_blob_files(True)
    opts.set_min_blob_size(0)
    opts.set_blob_compression_type(kind)
    opts.set_enable_blob_gc(True)
    return opts


def _open_engine(directory: Path, *, read_only: bool) -> Any:
    access = rocksdict.AccessType.read_only() if read_only else rocksdict.AccessType.read_write()
    return rocksdict.Rdict(str(directory), engine_options(),
                           column_families={RECORDS_CF: engine_options(), META_CF: engine_options()},
                           access_type=access)


def _raise_mapped(exc: BaseException, directory: Path, doing: str) -> NoReturn:
    """rocksdict raises bare ``Exception`` with RocksDB's status text; map it without passing the text on."""
    text = str(exc)
    if "lock file" in text.lower():
        raise StoreError(f"rocksdb store {directory} is locked by another process") from None
    if text.startswith(("Corruption", "IO error", "Invalid argument", "Not implemented")):
        raise StoreIntegrityError(f"rocksdb store {directory} is damaged or not a rocksdb store "
                                  f"(engine refused while {doing})") from None
    raise StoreError(f"rocksdb store {directory}: engine error while {doing} ({type(exc).__name__})") from None


class RocksDbStore(RecordStore):
    """A RocksDB directory with column families ``records`` (sealed values) and ``meta``."""

    purpose = "rocksdb"
    # What the files are: every value an AES-256-GCM envelope inside a plaintext RocksDB database.
    FORMAT: dict[str, Any] = {"engine": "sealed-values", "cipher": "AES-256", "mode": "GCM", "mac": None,
                              "container": "rocksdb"}

    def __init__(self, db: Any, directory: Path, keyring: UnlockedKeyring, names_key_id: bytes,
                 blind_names: bool, audit: StoreAudit) -> None:
        self._db = db
        self._records = db.get_column_family(RECORDS_CF)
        self._meta = db.get_column_family(META_CF)
        self._directory = directory
        self._keyring = keyring
        self._blind_names = blind_names
        self._names_key_id = names_key_id
        self._audit = audit
        names_dek = keyring.data_key(self.purpose, names_key_id)
        if names_dek is None:
            raise StoreIntegrityError(f"rocksdb store {directory}: the keyring lacks the store's naming key")
        self._blinder: Blinder | None = Blinder(derive_subkey(names_dek.secret, _BLIND_LABEL))
        self._sealers = SealerCache(lambda: self._closed)

    def __repr__(self) -> str:
        return f"RocksDbStore(path={str(self._directory)!r}, blind_names={self._blind_names})"

    # ---- sealing -------------------------------------------------------------------------------------------
    def _active_sealer(self) -> Sealer:
        return self._sealers.sealer(self._keyring.active_data_key(self.purpose))

    # Every record value is sealed by ``_seal_records`` and opened by ``_open_record``, bound to its stored key
    # by ``_record_context``: the three places a change to how values are protected has to go.
    def _record_context(self, stored_key: bytes) -> bytes:
        return _RECORDS_CONTEXT.encode(stored_key)

    def _seal_records(self, records: list[tuple[bytes, bytes]]) -> list[bytes]:
        """``(stored key, payload)`` pairs sealed under the active data key, in order."""
        return self._active_sealer().seal_many([(payload, self._record_context(stored)) for stored, payload in records])

    def _open_record(self, stored_key: bytes, sealed: bytes) -> bytes:
        """Open one sealed value of the records family with whichever data key its header names."""
        try:
            lookup = partial(self._keyring.data_key, self.purpose)
            return self._sealers.open_with(lookup, sealed, self._record_context(stored_key))
        except AicoSecureError:
            raise StoreIntegrityError(f"rocksdb store {self._directory}: a sealed value failed authentication "
                                      "(wrong key, tampered, or moved from another key)") from None

    def _stored_key(self, key: str) -> bytes:
        raw = key.encode("utf-8")
        if not self._blind_names:
            return raw
        blinder = self._blinder  # read once: close() may drop it from another thread
        if blinder is None:
            raise StoreClosedError(f"the {self.purpose} store is closed")
        return blinder(raw)

    def _pack(self, key: str, value: bytes) -> bytes:
        if not self._blind_names:
            return value
        raw = key.encode("utf-8")
        return b"".join((_NAME_LEN.pack(len(raw)), raw, value))

    def _unpack(self, stored_key: bytes, payload: bytes) -> tuple[str, bytes]:
        if not self._blind_names:
            return stored_key.decode("utf-8"), payload
        if len(payload) < _NAME_LEN.size:
            raise StoreIntegrityError(f"rocksdb store {self._directory}: a sealed record is malformed")
        (size,) = _NAME_LEN.unpack_from(payload)
        name = payload[_NAME_LEN.size:_NAME_LEN.size + size]
        if len(name) != size:
            raise StoreIntegrityError(f"rocksdb store {self._directory}: a sealed record is malformed")
        # No need to re-blind the name: the envelope's associated data already binds this payload to stored_key.
        return name.decode("utf-8"), payload[_NAME_LEN.size + size:]

    # ---- opening -------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, keyring: UnlockedKeyring, directory: Path, *, audit: AuditSink | None = None,
             blind_names: bool = True) -> Self:
        directory = Path(directory)
        log = StoreAudit(audit, STORE_KIND)
        fresh = not (directory / MARKER_FILE).exists()
        if fresh and directory.exists() and any(directory.iterdir()):
            raise StoreIntegrityError(f"{directory} holds files but no RocksDB database: not a rocksdb store")
        if not fresh:
            if not has_keys(keyring, cls.purpose):
                raise StoreIntegrityError(f"rocksdb store {directory}: this keyring has no rocksdb data key")
            # Verify with a read-only open first: a refusal must leave every file exactly as it was.
            try:
                probe = _open_engine(directory, read_only=True)
            except Exception as exc:  # noqa: BLE001 - rocksdict raises bare Exception
                _raise_mapped(exc, directory, "opening")
            try:
                state = cls._read_meta(probe, keyring, directory)
                _check_high_water(directory, keyring, probe.latest_sequence_number())
            finally:
                probe.close()
            if state is None and _has_records(directory):
                raise StoreIntegrityError(f"rocksdb store {directory} has records but no store header")
        directory.mkdir(parents=True, exist_ok=True)
        try:
            db = _open_engine(directory, read_only=False)
        except Exception as exc:  # noqa: BLE001 - rocksdict raises bare Exception
            _raise_mapped(exc, directory, "opening")
        try:
            state = cls._read_meta(db, keyring, directory)
            if state is None:  # new store, or a crash before its header was written (and no record exists)
                key = keyring.active_data_key(cls.purpose)
                state = (key.key_id, blind_names)
                cls._write_meta(db, keyring, key, blind_names)
                log.crypto("create", key_id=key.key_id.hex())
            store = cls(db, directory, keyring, state[0], state[1], log)
        except BaseException:
            db.close()
            raise
        log.crypto("open", key_id=store.data_key_id)
        return store

    @staticmethod
    def _read_meta(db: Any, keyring: UnlockedKeyring, directory: Path) -> tuple[bytes, bool] | None:
        meta = db.get_column_family(META_CF)
        try:
            sealed_store = meta.get(_META_STORE)
            sealed_names = meta.get(_META_NAMES)
        except Exception as exc:  # noqa: BLE001
            _raise_mapped(exc, directory, "reading the store header")
        if sealed_store is None and sealed_names is None:
            return None
        if sealed_store is None or sealed_names is None:
            raise StoreIntegrityError(f"rocksdb store {directory}: store header incomplete")
        if open_sealed(keyring, META_CF, _META_STORE, sealed_store, directory) != STORE_KIND.encode():
            raise StoreIntegrityError(f"rocksdb store {directory} belongs to another store")
        names = open_sealed(keyring, META_CF, _META_NAMES, sealed_names, directory)
        if len(names) != 9 or names[8] not in (0, 1):
            raise StoreIntegrityError(f"rocksdb store {directory}: store header malformed")
        return names[:8], bool(names[8])

    @classmethod
    def _write_meta(cls, db: Any, keyring: UnlockedKeyring, key: DataKey, blind_names: bool) -> None:
        meta = db.get_column_family(META_CF)
        context = RecordContext(store=STORE_KIND, collection=META_CF, record_key=_META_NAMES)
        meta.put(_META_NAMES, envelope.seal(key, key.key_id + bytes([int(blind_names)]), context))
        context = RecordContext(store=STORE_KIND, collection=META_CF, record_key=_META_STORE)
        meta.put(_META_STORE, envelope.seal(key, STORE_KIND.encode(), context))  # written last: marks completion
        db.flush_wal(True)

    # ---- records -------------------------------------------------------------------------------------------
    def _engine(self, doing: str, call: Any, *args: Any) -> Any:
        self._check_open()
        try:
            return call(*args)
        except Exception as exc:  # noqa: BLE001 - rocksdict raises bare Exception
            _raise_mapped(exc, self._directory, doing)

    def put(self, key: str, value: bytes) -> None:
        key, value = check_key(key), check_value(value)
        self._check_open()
        stored = self._stored_key(key)
        sealed = self._seal_records([(stored, self._pack(key, value))])[0]
        self._engine("writing", self._records.put, stored, sealed)
        self._audit.access("write")

    def put_many(self, items: list[tuple[str, bytes]]) -> None:
        """Write many records in one atomic batch (nothing is written if any item is refused)."""
        checked = [(check_key(key), check_value(value)) for key, value in items]
        self._check_open()
        stored = [self._stored_key(key) for key, _ in checked]
        sealed = self._seal_records([(name, self._pack(key, value))
                                     for (key, value), name in zip(checked, stored, strict=True)])
        batch = rocksdict.WriteBatch(raw_mode=True)
        handle = self._db.get_column_family_handle(RECORDS_CF)
        for name, record in zip(stored, sealed, strict=True):
            batch.put(name, record, handle)
        self._engine("writing", self._db.write, batch)
        self._audit.access("write", count=len(checked))

    def get(self, key: str) -> bytes | None:
        key = check_key(key)
        self._check_open()
        stored = self._stored_key(key)
        try:
            sealed = self._records.get(stored)
        except Exception as exc:  # noqa: BLE001 - rocksdict raises bare Exception
            _raise_mapped(exc, self._directory, "reading")
        self._audit.access("read")
        if sealed is None:
            return None
        name, value = self._unpack(stored, self._open_record(stored, sealed))
        if name != key:
            raise StoreIntegrityError(f"rocksdb store {self._directory}: a record's name does not match its key")
        return value

    def delete(self, key: str) -> None:
        self._engine("deleting", self._records.delete, self._stored_key(check_key(key)))
        self._audit.access("delete")

    def _items(self) -> Iterator[tuple[bytes, bytes]]:
        self._check_open()
        try:
            # Not ``items()``: its iterator ends quietly at a block that fails its checksum, so a damaged file
            # would list fewer records instead of being refused. The iterator's status says why it stopped.
            cursor = self._records.iter()
            cursor.seek_to_first()
            while cursor.valid():
                yield cursor.key(), cursor.value()
                cursor.next()
            cursor.status()
        except Exception as exc:  # noqa: BLE001
            _raise_mapped(exc, self._directory, "listing")

    def keys(self) -> list[str]:
        names = [self._unpack(stored, self._open_record(stored, sealed))[0]
                 for stored, sealed in self._items()]
        self._audit.access("list", count=len(names))
        return sorted(names)

    # ---- maintenance ---------------------------------------------------------------------------------------
    def compact(self) -> None:
        """Flush, then a forced bottommost compaction with blob GC of every blob file: tombstoned values and
        the blob files holding them are dropped, and the WAL that logged them becomes obsolete and is deleted."""
        self._check_open()
        compact = rocksdict.CompactOptions()
        compact.set_bottommost_level_compaction(rocksdict.BottommostLevelCompaction.force())
        for family in (self._records, self._meta):
            self._engine("compacting", family.set_options, {"blob_garbage_collection_age_cutoff": "1.0",
                                                           "blob_garbage_collection_force_threshold": "0.0"})
            self._engine("flushing", family.flush, True)
            self._engine("compacting", family.compact_range, None, None, compact)
            self._engine("compacting", family.set_options, {"blob_garbage_collection_age_cutoff": "0.25",
                                                           "blob_garbage_collection_force_threshold": "1.0"})
        self._engine("flushing", self._db.flush_wal, True)
        self._audit.crypto("compact", key_id=self.data_key_id)

    def rotate_data_key(self) -> None:
        """New writes are sealed under a new data key; records sealed before stay readable under the old one
        (it stays in the keyring). ``reencrypt`` moves them on when asked."""
        self._check_open()
        self._keyring.rotate_dek(self.purpose)
        self._audit.crypto("rotate_dek", key_id=self.data_key_id)

    def reencrypt(self) -> int:
        """Re-seal every record under the active data key (one batch); returns how many were rewritten."""
        batch = rocksdict.WriteBatch(raw_mode=True)
        handle = self._db.get_column_family_handle(RECORDS_CF)
        opened = [(stored, self._open_record(stored, sealed)) for stored, sealed in list(self._items())]
        for (stored, _payload), resealed in zip(opened, self._seal_records(opened), strict=True):
            batch.put(stored, resealed, handle)
        count = len(opened)
        self._engine("re-encrypting", self._db.write, batch)
        self._audit.crypto("reencrypt", key_id=self.data_key_id)
        return count

    @property
    def data_key_id(self) -> str:
        return self._keyring.active_data_key(self.purpose).key_id.hex()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._sealers.clear()  # the cached ciphers hold key material: not past close
            self._blinder = None
            with contextlib.suppress(Exception):
                self._db.flush_wal(True)
            sequence = self._db.latest_sequence_number()
            del self._records, self._meta
            self._db.close()
            _write_high_water(self._directory, self._keyring.active_data_key(self.purpose), sequence)


def open_sealed(keyring: UnlockedKeyring, family: str, stored_key: bytes, sealed: bytes, directory: Path) -> bytes:
    """Open one sealed value with whichever rocksdb data key its header names."""
    try:
        return envelope.open_with(lambda kid: keyring.data_key(RocksDbStore.purpose, kid), sealed,
                                  RecordContext(store=STORE_KIND, collection=family, record_key=stored_key))
    except AicoSecureError:
        raise StoreIntegrityError(f"rocksdb store {directory}: a sealed value failed authentication "
                                  "(wrong key, tampered, or moved from another key)") from None


def _write_high_water(directory: Path, key: DataKey, sequence: int) -> None:
    """Record, sealed, the sequence number the store had when it was closed cleanly."""
    sealed = envelope.seal(key, str(int(sequence)).encode(), _HIGH_WATER_CONTEXT)
    atomic_write(directory / HIGH_WATER_FILE, sealed)


def _check_high_water(directory: Path, keyring: UnlockedKeyring, sequence: int) -> None:
    """Refuse a database that recovers to an older state than it was last closed in.

    RocksDB silently accepts some damage (a truncated MANIFEST drops the files its lost edits referenced, and
    their WAL is long gone) and any rollback to an older copy; both surface as missing records without an
    error. A crash never lowers the sequence number (the WAL is replayed), so only damage does."""
    path = directory / HIGH_WATER_FILE
    if not path.exists():
        return  # never closed cleanly yet
    try:
        recorded = envelope.open_with(lambda kid: keyring.data_key(RocksDbStore.purpose, kid), path.read_bytes(),
                                      _HIGH_WATER_CONTEXT)
        high_water = int(recorded.decode("ascii"))
    except (AicoSecureError, ValueError, UnicodeDecodeError):
        raise StoreIntegrityError(f"rocksdb store {directory}: its high-water mark does not authenticate") from None
    if sequence < high_water:
        raise StoreIntegrityError(f"rocksdb store {directory} recovers to an older state than it was closed in "
                                  "(damaged or rolled back)")


def _has_records(directory: Path) -> bool:
    db = _open_engine(directory, read_only=True)
    try:
        return any(True for _ in db.get_column_family(RECORDS_CF).keys())
    finally:
        db.close()
