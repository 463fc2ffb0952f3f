"""The Chroma vector store: ids encrypted, documents and metadata sealed, embeddings under DCPE.

Why this shape: Chroma must compare vectors, so an AEAD cannot cover them (the seed's Fernet example cannot
work: Chroma needs floats). Embeddings go into Chroma encrypted with distance-comparison-preserving encryption
(``aico_secure.crypto.dcpe``); everything else about an item (its id, document, metadata and the exact
embedding) is packed into one AEAD envelope stored, base64-encoded, as the item's only Chroma metadata value
(not as a Chroma document: Chroma full-text indexes documents, which for ciphertext costs 5x in writes and
buys nothing). Ids are encrypted deterministically (AES-SIV), so equal ids match and a query's hits turn back
into item ids without opening any payload. A query is DCPE-encrypted the same way as the stored vectors and
answered in DCPE order (exact up to ``beta``); with ``rerank_queries`` the store instead fetches ``2k``
candidates and re-ranks them by the exact embeddings sealed in their payloads: exact among the candidates and
immune to a tampered vector index, at about twice the cost.

Keys: payloads are sealed under the purpose's active data key. Encrypted ids and DCPE are keyed from the "index
key", the data key that was active when the collection was built (its id is in the collection metadata, with
a check value). Rotating the data key therefore changes nothing already stored; ``compact`` rebuilds the
collection under the active key (fresh DCPE key, ids, seals), drops the old collection and VACUUMs Chroma's
SQLite file, which is also what makes deletion final (Chroma keeps deleted items in its log and its HNSW
files until then).

Offline: ``anonymized_telemetry=False``, no embedding function (embeddings are always passed in).

Heap: Chroma persists HNSW capacity it never initialised, i.e. old heap contents of this process, into
``data_level0.bin``; opening the store turns on glibc malloc perturbation (``aico_secure.stores.heap``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import shutil
import sqlite3
import struct
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, Self

import chromadb
import chromadb.errors
import numpy as np
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings

from aico_secure.audit.events import AuditSink
from aico_secure.crypto.dcpe import DEFAULT_BETA, DcpeKey
from aico_secure.crypto.subkeys import NameCipher, blind, derive_subkey
from aico_secure.envelope import CollectionContext, DataKey
from aico_secure.errors import AicoSecureError
from aico_secure.keys import UnlockedKeyring
from aico_secure.stores._keycache import SealerCache
from aico_secure.stores.audit import StoreAudit
from aico_secure.stores.datakeys import has_keys
from aico_secure.stores.errors import InvalidRecordError, StoreError, StoreIntegrityError
from aico_secure.stores.heap import harden_heap
from aico_secure.stores.interface import (
    MAX_DOCUMENT_BYTES,
    VectorStore,
    check_embedding,
    check_key,
    check_metadata,
)

STORE_KIND = "chroma"
SQLITE_FILE = "chroma.sqlite3"
COLLECTION_PREFIX = "aico-vectors-g"
SEAL_COLLECTION = "vectors"
PAGE = 500
CANDIDATES_PER_RESULT = 2
MIN_CANDIDATES = 20
PAYLOAD_KEY = "aico_sealed"
_NAMES_LABEL = "chroma/names-siv"
_CHECK_LABEL = "chroma/check"
_CHECK_MESSAGE = b"aico-secure chroma index key check"
_SEAL_CONTEXT = CollectionContext(store=STORE_KIND, collection=SEAL_COLLECTION)
_FIELD = struct.Struct(">I")
_UUID_DIR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DAMAGE = ("malformed", "not a database", "corrupt", "hnsw", "pickle", "deserial", "failed to load", "checksum",
           "no such table", "error loading", "unexpected eof", "invalid", "failed to pull logs")



def _is_engine_error(exc: BaseException) -> bool:
    """Exceptions from Chroma, including Rust panics (``pyo3_runtime.PanicException`` derives from
    ``BaseException`` and cannot be imported by name); never ``KeyboardInterrupt`` or ``SystemExit``."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _settings(directory: Path) -> Settings:
    return Settings(anonymized_telemetry=False, allow_reset=False, is_persistent=True,
                    persist_directory=str(directory))


def _raise_mapped(exc: BaseException, directory: Path, doing: str, *, loading: bool = False) -> NoReturn:
    """Engine error -> typed store error. ``loading``: the call only read the store's own files with fixed
    arguments (opening, listing collections), so whatever went wrong is in those files."""
    text = str(exc).lower()
    if isinstance(exc, AicoSecureError) or not _is_engine_error(exc):
        raise exc
    if loading and "database is locked" not in text:
        raise StoreIntegrityError(f"chroma store {directory} could not be loaded while {doing}: damaged or not "
                                  "a chroma store") from None
    if "database is locked" in text or "lock file" in text:
        raise StoreError(f"chroma store {directory} is locked by another process") from None
    # Chroma's SQLite file and HNSW files are not authenticated: when the engine itself fails reading them
    # (an internal error, a Rust panic on undecodable bytes) the files are damaged, not the request wrong.
    if isinstance(exc, chromadb.errors.InternalError) or not isinstance(exc, Exception) or any(
            marker in text for marker in _DAMAGE):
        raise StoreIntegrityError(f"chroma store {directory} is damaged or not a chroma store "
                                  f"(engine refused while {doing})") from None
    raise StoreError(f"chroma store {directory}: engine error while {doing} ({type(exc).__name__})") from None


def _pack(item_id: str, document: str, metadata: Mapping[str, str], vector: np.ndarray) -> bytes:
    parts = (item_id.encode(), document.encode(), json.dumps(dict(metadata), sort_keys=True).encode(),
             np.asarray(vector, dtype="<f4").tobytes())
    return b"".join(_FIELD.pack(len(p)) + p for p in parts)


def _unpack(payload: bytes, *, with_metadata: bool = True) -> tuple[str, str, dict[str, str], np.ndarray]:
    parts: list[bytes] = []
    offset = 0
    for _ in range(4):
        if offset + _FIELD.size > len(payload):
            raise StoreIntegrityError("chroma store: a sealed item is malformed")
        (size,) = _FIELD.unpack_from(payload, offset)
        offset += _FIELD.size
        parts.append(payload[offset:offset + size])
        offset += size
    if offset != len(payload) or len(parts[3]) % 4:
        raise StoreIntegrityError("chroma store: a sealed item is malformed")
    metadata = json.loads(parts[2]) if with_metadata else {}
    return parts[0].decode(), parts[1].decode(), metadata, np.frombuffer(parts[3], dtype="<f4")


class _IndexKeys:
    """The keys bound to one collection generation: id encryption, a check value, and DCPE (per dimension,
    made lazily). Ids are encrypted deterministically (AES-SIV) rather than hashed so that a query's hits can be
    turned back into item ids without fetching and opening each hit's payload.

    Every query turns its hits back into ids, so the AES-SIV key schedule and the DCPE key are kept rather
    than rebuilt per call; ``forget`` (the store's close) drops both, and nothing is cached after it."""

    def __init__(self, dek: DataKey, beta: float) -> None:
        self.key_id = dek.key_id
        self._dek = dek
        self._names = derive_subkey(dek.secret, _NAMES_LABEL, length=64)
        self._check = derive_subkey(dek.secret, _CHECK_LABEL)
        self._beta = beta
        self._dcpe: DcpeKey | None = None
        self._cipher: NameCipher | None = None
        self._forgotten = False

    def __repr__(self) -> str:
        return f"_IndexKeys(key_id={self.key_id.hex()})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("_IndexKeys holds key material and refuses to be pickled")

    def _names_cipher(self) -> NameCipher:
        cipher = self._cipher
        if cipher is None:
            cipher = NameCipher(self._names)
            if not self._forgotten:
                self._cipher = cipher
        return cipher

    def forget(self) -> None:
        """Drop the cached key schedules (the store is closing); later calls rebuild them each time."""
        self._forgotten = True
        self._cipher = self._dcpe = None

    def blind_id(self, item_id: str) -> str:
        """The opaque id Chroma stores for ``item_id``."""
        return self._names_cipher().encrypt(item_id.encode()).hex()

    def item_id(self, stored: str) -> str:
        """Inverse of ``blind_id``; ``StoreIntegrityError`` for an id this key did not make."""
        try:
            return self._names_cipher().decrypt(bytes.fromhex(stored)).decode()
        except (ValueError, UnicodeDecodeError):
            raise StoreIntegrityError("chroma store: an item id does not authenticate (tampered or foreign)") from None

    def check_value(self) -> str:
        return blind(self._check, _CHECK_MESSAGE).hex()

    def dcpe(self, dimension: int) -> DcpeKey:
        key = self._dcpe
        if key is None or key.dimension != dimension:
            key = DcpeKey(self._dek.secret, dimension, beta=self._beta)
            if not self._forgotten:
                self._dcpe = key
        return key


class ChromaStore(VectorStore):
    """A Chroma persistent directory holding one live collection generation ``aico-vectors-g<N>``."""

    purpose = "chroma"
    # What the files are: each item's id, document, metadata and exact embedding in one AES-256-GCM envelope,
    # base64 in Chroma's plaintext SQLite file.
    FORMAT: dict[str, Any] = {"engine": "sealed-values", "cipher": "AES-256", "mode": "GCM", "mac": None,
                              "container": "sqlite"}

    def __init__(self, client: Any, directory: Path, keyring: UnlockedKeyring, audit: StoreAudit,
                 beta: float, rerank_queries: bool = False) -> None:
        self._client = client
        self._rerank = rerank_queries
        self._directory = directory
        self._keyring = keyring
        self._audit = audit
        self._beta = beta
        self._collection: Any = None
        self._index: _IndexKeys | None = None
        self._dimension = 0
        self._generation = 0
        # One Sealer per data key (AES-GCM set up once, not per item): see aico_secure.stores._keycache.
        self._sealers = SealerCache(lambda: self._closed)

    def __repr__(self) -> str:
        return f"ChromaStore(path={str(self._directory)!r}, generation={self._generation})"

    # ---- opening -------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, keyring: UnlockedKeyring, directory: Path, *, audit: AuditSink | None = None,
             beta: float = DEFAULT_BETA, rerank_queries: bool = False) -> Self:
        directory = Path(directory)
        log = StoreAudit(audit, STORE_KIND)
        exists = (directory / SQLITE_FILE).exists()
        if not exists and directory.exists() and any(directory.iterdir()):
            raise StoreIntegrityError(f"{directory} holds files but no {SQLITE_FILE}: not a chroma store")
        if exists:
            if (directory / SQLITE_FILE).stat().st_size == 0:
                raise StoreIntegrityError(f"chroma store {directory}: {SQLITE_FILE} is empty (truncated)")
            if not has_keys(keyring, cls.purpose):
                raise StoreIntegrityError(f"chroma store {directory}: this keyring has no chroma data key")
            _probe_sqlite(directory, keyring, beta)
        directory.mkdir(parents=True, exist_ok=True)
        harden_heap()  # Chroma writes uninitialised HNSW capacity to disk: see aico_secure.stores.heap
        store = cls(cls._client_for(directory), directory, keyring, log, beta, rerank_queries)
        try:
            store._load_generation(create=not exists)
        except BaseException:
            store._release()
            raise
        log.crypto("open", key_id=store.index_key_id)
        return store

    @staticmethod
    def _client_for(directory: Path) -> Any:
        try:
            return chromadb.PersistentClient(path=str(directory), settings=_settings(directory))
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _forget_system(directory)
            _raise_mapped(exc, directory, "opening", loading=True)

    def _load_generation(self, *, create: bool) -> None:
        """Pick the newest complete generation and drop the debris of an interrupted rebuild."""
        try:
            names = [c.name for c in self._client.list_collections()]
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _raise_mapped(exc, self._directory, "listing collections", loading=True)
        generations = {}
        for name in names:
            if not name.startswith(COLLECTION_PREFIX) or not name[len(COLLECTION_PREFIX):].isdigit():
                raise StoreIntegrityError(f"chroma store {self._directory} holds a foreign collection")
            generations[int(name[len(COLLECTION_PREFIX):])] = self._get_collection(name)
        complete = sorted(g for g, c in generations.items() if (c.metadata or {}).get("aico_complete") is True)
        if not complete:
            if generations and not create:
                for collection in generations.values():
                    if collection.count():
                        raise StoreIntegrityError(f"chroma store {self._directory} has no complete collection")
            for generation in generations:
                self._drop(generation)
            self._create_generation(1, complete=True)
            self._audit.crypto("create", key_id=self.index_key_id)
            return
        current = complete[-1]
        self._use(generations[current])  # verifies the index key before anything is dropped
        for generation in generations:
            if generation != current:
                self._drop(generation)

    def _get_collection(self, name: str) -> Any:
        try:
            return self._client.get_collection(name, embedding_function=None)
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _raise_mapped(exc, self._directory, "opening a collection", loading=True)

    def _use(self, collection: Any) -> None:
        """Adopt ``collection``: its metadata names its index key, which must be in the keyring and match."""
        meta = collection.metadata or {}
        try:
            key_id = bytes.fromhex(str(meta.get("aico_index_key", "")))
            dimension = int(meta.get("aico_dim", 0))
            generation = int(meta.get("aico_gen", -1))
        except ValueError:
            raise StoreIntegrityError(f"chroma store {self._directory}: collection metadata malformed") from None
        if meta.get("aico_store") != STORE_KIND or generation < 1:
            raise StoreIntegrityError(f"chroma store {self._directory}: not an aico chroma collection")
        dek = self._keyring.data_key(self.purpose, key_id) if len(key_id) == 8 else None
        if dek is None:
            raise StoreIntegrityError(f"chroma store {self._directory}: the keyring lacks the collection's index key")
        index = _IndexKeys(dek, self._beta)
        if meta.get("aico_check") != index.check_value():
            raise StoreIntegrityError(f"chroma store {self._directory}: index key check failed")
        self._collection, self._index, self._dimension, self._generation = collection, index, dimension, generation

    def _metadata(self, generation: int, index: _IndexKeys, dimension: int, complete: bool) -> dict[str, Any]:
        return {"aico_store": STORE_KIND, "aico_gen": generation, "aico_index_key": index.key_id.hex(),
                "aico_check": index.check_value(), "aico_dim": dimension, "aico_complete": complete}

    def _create_generation(self, generation: int, *, complete: bool) -> Any:
        index = _IndexKeys(self._keyring.active_data_key(self.purpose), self._beta)
        try:
            collection = self._client.create_collection(
                f"{COLLECTION_PREFIX}{generation}", embedding_function=None,
                metadata=self._metadata(generation, index, self._dimension, complete),
                configuration={"hnsw": {"space": "l2", "ef_search": 100, "ef_construction": 100}})
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _raise_mapped(exc, self._directory, "creating a collection")
        if complete:
            self._collection, self._index, self._generation = collection, index, generation
        return collection

    def _drop(self, generation: int) -> None:
        try:
            self._client.delete_collection(f"{COLLECTION_PREFIX}{generation}")
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _raise_mapped(exc, self._directory, "dropping a collection")

    # ---- items ---------------------------------------------------------------------------------------------
    def _ready(self) -> tuple[Any, _IndexKeys]:
        self._check_open()
        assert self._collection is not None and self._index is not None
        return self._collection, self._index

    # Every payload is sealed by ``_seal`` and opened by ``_open_document``, bound to its blinded id by
    # ``_SEAL_CONTEXT``: the places a change to how payloads are protected has to go.
    def _seal(self, blinded: str, payload: bytes) -> str:
        sealer = self._sealers.sealer(self._keyring.active_data_key(self.purpose))
        sealed = sealer.seal(payload, _SEAL_CONTEXT.encode(blinded.encode()))
        return base64.b64encode(sealed).decode("ascii")

    def _open_document(self, blinded: str, metadata: Mapping[str, Any] | None, *, with_metadata: bool = True,
                       ) -> tuple[str, str, dict[str, str], np.ndarray]:
        document = (metadata or {}).get(PAYLOAD_KEY)
        if not isinstance(document, str) or not document:
            raise StoreIntegrityError(f"chroma store {self._directory}: an item has no sealed payload")
        try:
            sealed = base64.b64decode(document, validate=True)
            lookup = partial(self._keyring.data_key, self.purpose)
            payload = self._sealers.open_with(lookup, sealed, _SEAL_CONTEXT.encode(blinded.encode()))
            return _unpack(payload, with_metadata=with_metadata)
        except (AicoSecureError, binascii.Error, ValueError, UnicodeDecodeError):
            raise StoreIntegrityError(f"chroma store {self._directory}: a sealed item failed authentication "
                                      "(wrong key, tampered, or moved from another id)") from None

    def _encrypt_vectors(self, index: _IndexKeys, vectors: np.ndarray) -> np.ndarray:
        """What Chroma is given instead of the embeddings (rows of ``vectors``): their DCPE encryptions."""
        return index.dcpe(vectors.shape[1]).encrypt(np.asarray(vectors, dtype=np.float64))

    def _set_dimension(self, dimension: int) -> None:
        collection, index = self._ready()
        try:
            collection.modify(metadata=self._metadata(self._generation, index, dimension, True))
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _raise_mapped(exc, self._directory, "recording the dimension")
        self._dimension = dimension

    def add(self, item_id: str, embedding: Sequence[float], document: str, metadata: Mapping[str, str]) -> None:
        self.add_many([(item_id, embedding, document, metadata)])

    def add_many(self, items: Sequence[tuple[str, Sequence[float], str, Mapping[str, str]]]) -> None:
        """Insert or replace many items with one engine call."""
        collection, index = self._ready()
        if not items:
            return
        checked = []
        for item_id, embedding, document, metadata in items:
            vector = _embedding(embedding, self._dimension or None)
            if not isinstance(document, str) or len(document.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
                raise InvalidRecordError(f"a document is a string of at most {MAX_DOCUMENT_BYTES} bytes")
            checked.append((check_key(item_id, "item id"), vector, document, check_metadata(metadata)))
        dimension = len(checked[0][1])
        if any(len(c[1]) != dimension for c in checked):
            raise InvalidRecordError("all embeddings in one call must have the same dimension")
        exact = np.stack([c[1] for c in checked])
        if not self._dimension:
            self._set_dimension(dimension)
        encrypted = self._encrypt_vectors(index, exact)
        ids = [index.blind_id(c[0]) for c in checked]
        payloads = [{PAYLOAD_KEY: self._seal(b, _pack(c[0], c[2], c[3], v))}
                    for b, c, v in zip(ids, checked, exact, strict=True)]
        try:
            collection.upsert(ids=ids, embeddings=encrypted, metadatas=payloads)
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _raise_mapped(exc, self._directory, "adding")
        self._audit.access("write", count=len(ids))

    def get(self, item_id: str) -> tuple[str, dict[str, str]] | None:
        collection, index = self._ready()
        item_id = check_key(item_id, "item id")
        blinded = index.blind_id(item_id)
        try:
            found = collection.get(ids=[blinded], include=["metadatas"])
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _raise_mapped(exc, self._directory, "reading")
        self._audit.access("read")
        if not found["ids"]:
            return None
        name, document, metadata, _vector = self._open_document(blinded, found["metadatas"][0])
        if name != item_id:
            raise StoreIntegrityError(f"chroma store {self._directory}: an item's id does not match its payload")
        return document, metadata

    def delete(self, item_id: str) -> None:
        collection, index = self._ready()
        try:
            collection.delete(ids=[index.blind_id(check_key(item_id, "item id"))])
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _raise_mapped(exc, self._directory, "deleting")
        self._audit.access("delete")

    def query(self, embedding: Sequence[float], k: int, *, rerank: bool | None = None) -> list[str]:
        """Ids of the ``k`` nearest items. Without re-ranking (the default, ``rerank_queries``) the order is
        DCPE's: exact up to ``beta``. With it, ``2k`` candidates are re-ranked by the exact embeddings sealed in
        their payloads: exact among the candidates, and immune to a tampered vector index, at about twice the
        cost of a query (every candidate's payload is fetched and opened)."""
        collection, index = self._ready()
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise InvalidRecordError("k is a positive integer")
        if not self._dimension:
            return []
        exact = _embedding(embedding, self._dimension)
        rerank = self._rerank if rerank is None else rerank
        wanted = max(k * CANDIDATES_PER_RESULT, MIN_CANDIDATES) if rerank else k  # Chroma caps at the size
        try:
            found = collection.query(query_embeddings=self._encrypt_vectors(index, exact[None, :]),
                                     n_results=wanted, include=["metadatas"] if rerank else [])
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _raise_mapped(exc, self._directory, "querying")
        if not rerank:
            names = [index.item_id(stored) for stored in found["ids"][0]]
            self._audit.access("query", count=len(names))
            return names
        names, vectors = [], []
        for stored, metadata in zip(found["ids"][0], found["metadatas"][0], strict=True):
            name, _doc, _meta, vector = self._open_document(stored, metadata, with_metadata=False)
            if index.item_id(stored) != name or vector.shape != exact.shape:
                raise StoreIntegrityError(f"chroma store {self._directory}: an item's id does not match its payload")
            names.append(name)
            vectors.append(vector)
        distances = _squared_distances(vectors, exact)
        ranked = sorted(zip(distances, names, strict=True))
        self._audit.access("query", count=min(k, len(ranked)))
        return [name for _distance, name in ranked[:k]]

    def _all(self, collection: Any) -> Iterator[tuple[str, Mapping[str, Any] | None]]:
        offset = 0
        while True:
            try:
                page = collection.get(include=["metadatas"], limit=PAGE, offset=offset)
            except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
                _raise_mapped(exc, self._directory, "listing")
            yield from zip(page["ids"], page["metadatas"], strict=True)
            if len(page["ids"]) < PAGE:
                return
            offset += PAGE

    def ids(self) -> list[str]:
        collection, index = self._ready()
        names = []
        for stored, metadata in self._all(collection):
            name = self._open_document(stored, metadata, with_metadata=False)[0]
            if index.item_id(stored) != name:
                raise StoreIntegrityError(f"chroma store {self._directory}: an item's id does not match its payload")
            names.append(name)
        self._audit.access("list", count=len(names))
        return sorted(names)

    # ---- maintenance ---------------------------------------------------------------------------------------
    def compact(self) -> None:
        """Rebuild into a new collection generation under the active data key, then make the old one leave
        the disk: drop it, close Chroma, remove orphaned segment directories and VACUUM its SQLite file.

        Crash safety: the new generation is marked complete only after every item is in it; until then the
        old one is authoritative and the next open drops the partial copy, after it the old one is dropped.
        """
        old, old_index = self._ready()
        generation = self._generation + 1
        new_index = _IndexKeys(self._keyring.active_data_key(self.purpose), self._beta)
        new = self._create_generation(generation, complete=False)
        batch: list[tuple[str, str]] = []
        embeddings: list[np.ndarray] = []

        def flush() -> None:
            if batch:
                try:
                    new.upsert(ids=[b for b, _ in batch], metadatas=[{PAYLOAD_KEY: d} for _, d in batch],
                               embeddings=self._encrypt_vectors(new_index, np.asarray(embeddings)))
                except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
                    _raise_mapped(exc, self._directory, "rebuilding")
                batch.clear()
                embeddings.clear()

        for blinded, payload in self._all(old):
            name, text, metadata, vector = self._open_document(blinded, payload)
            new_blinded = new_index.blind_id(name)
            batch.append((new_blinded, self._seal(new_blinded, _pack(name, text, metadata, vector))))
            embeddings.append(vector)
            if len(batch) >= PAGE:
                flush()
        flush()
        try:
            new.modify(metadata=self._metadata(generation, new_index, self._dimension, True))
        except BaseException as exc:  # noqa: BLE001 - filtered in _raise_mapped
            _raise_mapped(exc, self._directory, "completing a rebuild")
        self._drop(self._generation)
        del old, old_index
        self._collection, self._index, self._generation = new, new_index, generation
        self._vacuum()
        self._audit.crypto("compact", key_id=self.index_key_id)

    def _vacuum(self) -> None:
        """Close Chroma, delete segment directories no collection owns, VACUUM SQLite, reopen."""
        self._release()
        path = self._directory / SQLITE_FILE
        try:
            with contextlib.closing(sqlite3.connect(path)) as db:
                owned = {str(row[0]) for row in db.execute("SELECT id FROM segments")}
                db.execute("PRAGMA secure_delete = ON")
                db.execute("VACUUM")
        except sqlite3.DatabaseError:
            raise StoreIntegrityError(f"chroma store {self._directory}: {SQLITE_FILE} is damaged") from None
        for entry in self._directory.iterdir():
            if entry.is_dir() and _UUID_DIR.match(entry.name) and entry.name not in owned:
                shutil.rmtree(entry)
        self._client = self._client_for(self._directory)
        self._closed = False
        self._load_generation(create=False)

    def rotate_data_key(self) -> None:
        """New items and re-written ones are sealed under a new data key; everything stored stays readable.
        Ids and DCPE stay under the collection's index key until ``compact`` rebuilds under the new key."""
        self._check_open()
        self._keyring.rotate_dek(self.purpose)
        self._audit.crypto("rotate_dek", key_id=self._keyring.active_data_key(self.purpose).key_id.hex())

    @property
    def index_key_id(self) -> str:
        return self._index.key_id.hex() if self._index else ""

    @property
    def dimension(self) -> int:
        return self._dimension

    def _release(self) -> None:
        self._closed = True
        self._sealers.clear()  # cached key schedules: not past close
        if self._index is not None:
            self._index.forget()
        self._collection = None
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except BaseException as exc:  # a failing close must not mask the caller's error
                if not _is_engine_error(exc):
                    raise

    def close(self) -> None:
        if not self._closed:
            self._release()


def _forget_system(directory: Path) -> None:
    """Drop Chroma's cached engine for ``directory`` after a failed start. Chroma releases it on ``Exception``
    but not on a Rust panic (a ``BaseException``), and would hand the broken engine to every later client."""
    identifier = str(directory)
    system = SharedSystemClient._identifier_to_system.pop(identifier, None)
    SharedSystemClient._identifier_to_refcount.pop(identifier, None)
    if system is not None:
        try:
            system.stop()
        except BaseException as exc:  # a half-started engine may fail to stop; it is dropped either way
            if not _is_engine_error(exc):
                raise


def _probe_sqlite(directory: Path, keyring: UnlockedKeyring, beta: float) -> None:
    """Refuse a damaged or foreign SQLite file, or one whose collection this keyring cannot open, before Chroma
    sees it: starting Chroma writes to its database, and a refusal must leave every file as it was."""
    path = directory / SQLITE_FILE
    try:  # a normal (not read-only) connection so a crash's hot journal is rolled back; this only reads
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.text_factory = bytes  # Chroma's Rust side decodes strictly: so must we, before it sees the file
            for (sql,) in db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"):
                sql.decode("utf-8")
            db.text_factory = str
            tables = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"collections", "collection_metadata", "segments", "embeddings_queue"} <= tables:
                raise StoreIntegrityError(f"chroma store {directory}: {SQLITE_FILE} is not a chroma database")
            # integrity_check, not quick_check: only it compares every index with its table, and a flipped byte
            # in an index makes rows silently vanish from lookups by id.
            if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise StoreIntegrityError(f"chroma store {directory}: {SQLITE_FILE} fails its integrity check")
            rows = db.execute("SELECT c.name, m.key, m.str_value, m.int_value, m.bool_value FROM collections c "
                              "JOIN collection_metadata m ON m.collection_id = c.id").fetchall()
    except (sqlite3.DatabaseError, UnicodeDecodeError):
        raise StoreIntegrityError(f"chroma store {directory}: {SQLITE_FILE} is damaged or not SQLite") from None
    collections: dict[str, dict[str, Any]] = {}
    for name, key, text, number, flag in rows:
        collections.setdefault(str(name), {})[str(key)] = text if text is not None else (
            number if number is not None else flag)
    complete = [m for n, m in collections.items() if n.startswith(COLLECTION_PREFIX) and m.get("aico_complete")]
    if not complete:
        return  # nothing stored under any key yet (or an interrupted first rebuild): the open sorts it out
    newest = max(complete, key=lambda m: int(m.get("aico_gen") or 0))
    try:
        key_id = bytes.fromhex(str(newest.get("aico_index_key", "")))
    except ValueError:
        raise StoreIntegrityError(f"chroma store {directory}: collection metadata malformed") from None
    dek = keyring.data_key(ChromaStore.purpose, key_id) if len(key_id) == 8 else None
    if dek is None or _IndexKeys(dek, beta).check_value() != newest.get("aico_check"):
        raise StoreIntegrityError(f"chroma store {directory}: this keyring does not hold the collection's index key")


_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _embedding(embedding: object, dimension: int | None) -> np.ndarray:
    """``check_embedding`` as float32, without its per-component Python loop for a float NumPy vector (what
    embedding models and the benchmark hand in): for 384 dimensions that loop alone takes ~30 us, a query's
    whole DCPE encryption ~85 us. Anything else, and any vector the fast path would refuse, goes through
    ``check_embedding`` itself, so what is accepted and the errors raised are the same."""
    if isinstance(embedding, np.ndarray) and embedding.dtype in _FAST_DTYPES and embedding.ndim == 1:
        size_ok = embedding.size == dimension if dimension else embedding.size > 0
        if size_ok and np.isfinite(embedding).all():
            return embedding.astype(np.float32)
    return np.asarray(check_embedding(embedding, dimension), dtype=np.float32)


def _squared_distances(vectors: Sequence[np.ndarray], exact: np.ndarray) -> list[float]:
    """Squared Euclidean distances of the candidates to the query, in float32 as before, in one NumPy call."""
    if not vectors:
        return []
    return [float(d) for d in np.square(np.stack(vectors) - exact).sum(axis=1)]
