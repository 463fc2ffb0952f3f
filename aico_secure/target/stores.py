"""The data-at-rest capability: each store a build has, opened with an unlocked key session.

A build lists its stores in ``Target.stores`` by name: ``"libsql"`` (primary records), ``"duckdb"``
(analytics), ``"rocksdb"`` (cache) with ``kind="records"``, and ``"chroma"`` with ``kind="vectors"``. The suite
gives every store its own, initially empty, directory and judges only what lands there (requirements
AICO-DAR-001..009). Refusals are ``aico_secure.target.errors.IntegrityViolation``; any other exception where
a refusal is expected counts as a bug in the build.

Rules every store follows:

* Keys: a store is keyed from the session's key hierarchy. Opening existing data with a session that cannot
  decrypt it (another keyring, a damaged or truncated file, a file of another store) raises
  ``IntegrityViolation`` and writes nothing: every file keeps its bytes.
* Durability: when ``put``/``add``/``delete`` returns, the change survives the process being killed.
* Record keys, item ids, values, documents, metadata and embeddings are all caller data: none may be readable
  in any file of the directory (the suite writes canaries into every one of them).
* Rotation: ``rotate_data_key`` gives the store a new data key for new writes; data already written stays
  readable. After ``KeySession.rotate_master`` or ``change_password`` every store reopens with the session
  unlocked by the current password.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from aico_secure.audit.events import AuditSink
from aico_secure.target.keys import KeySession


@runtime_checkable
class RecordStore(Protocol):
    """An open key-value view of a store (libSQL, DuckDB, RocksDB). Keys are non-empty strings."""

    def put(self, key: str, value: bytes) -> None:
        """Insert or replace; durable against a process kill once it returns."""

    def get(self, key: str) -> bytes | None:
        """The value, ``None`` if absent; ``IntegrityViolation`` if the stored bytes do not authenticate."""

    def delete(self, key: str) -> None: ...

    def keys(self) -> list[str]:
        """Every key present, in any order."""

    def compact(self) -> None:
        """Run the engine's own compaction / VACUUM / checkpoint so deleted data leaves the disk: afterwards
        deleted records are in neither the files nor ``StoreCapability.forensic_image``."""

    def rotate_data_key(self) -> None:
        """Rotate this store's data key the way the engine allows (SQLCipher: rekey); data stays readable."""

    def close(self) -> None: ...


@runtime_checkable
class VectorStore(Protocol):
    """An open vector store (ChromaDB). Distances are Euclidean."""

    def add(self, item_id: str, embedding: Sequence[float], document: str, metadata: Mapping[str, str]) -> None:
        """Insert or replace one item; all embeddings of a store have the same dimension."""

    def query(self, embedding: Sequence[float], k: int) -> list[str]:
        """Ids of the ``k`` stored items nearest to ``embedding``, nearest first (approximate search is
        allowed; the suite expects the true nearest neighbours of well-separated points)."""

    def get(self, item_id: str) -> tuple[str, dict[str, str]] | None:
        """``(document, metadata)`` or ``None``; ``IntegrityViolation`` if the stored bytes do not authenticate."""

    def delete(self, item_id: str) -> None: ...

    def ids(self) -> list[str]:
        """Every item id present, in any order."""

    def compact(self) -> None:
        """As ``RecordStore.compact``: deleted items leave the disk and the forensic image."""

    def rotate_data_key(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class SealingKeyHook(Protocol):
    """Test hook of an open ``RecordStore`` or ``VectorStore``: which data key sealed a record. The suite checks
    with it that ``rotate_data_key`` really moves new writes to a new key (AICO-DAR-008); a store without it
    leaves that check "not implemented". Like every test hook it must tell the truth: it reads what is stored
    now, not a note of what the store meant to do."""

    def sealing_key_id(self, key: str) -> str | None:
        """An opaque, stable id of the data key that protects the record (item) ``key`` as it is stored now;
        ``None`` if there is no such record. Equal ids mean the same key. For an engine that encrypts whole
        pages or files (SQLCipher, DuckDB) it is the key those pages are encrypted under."""


@dataclass(frozen=True)
class StoreFormat:
    """What a store says about how its files are encrypted. The suite compares it with the files themselves,
    without any key and without the build's code (AICO-DAR-009), so every field must describe the bytes on disk.

    ``engine`` says how the store encrypts and so which bytes the suite reads:

    * ``"sqlcipher"``: one SQLCipher-format database (pages encrypted in place, a 16-byte random salt as the
      first bytes of the file, a per-page reserve for the IV and the MAC). ``page_size`` is required.
    * ``"duckdb"``: DuckDB's own database encryption; the cipher is read from the file's main header.
      ``page_size``, when given, is the block size.
    * ``"sealed-values"``: each value (RecordStore) or document (VectorStore) is sealed by the application and
      stored inside a plaintext ``container`` (``"rocksdb"`` or ``"sqlite"``: the formats the suite can read on
      its own); the suite reads every stored value and compares how sealed lengths grow with the mode (and with
      ``value_padding``, if the store pads plaintexts to hide their length).
    """

    engine: Literal["sqlcipher", "duckdb", "sealed-values"]
    cipher: str  # "AES-256"
    mode: str  # "GCM", "CBC", "CTR", "SIV", "ChaCha20-Poly1305", ...
    mac: str | None  # a separate MAC ("HMAC-SHA512"), None when the mode authenticates itself or there is none
    page_size: int | None = None
    container: str | None = None  # sealed-values only: "rocksdb" or "sqlite"
    # sealed-values only: plaintexts are padded to a multiple of this many bytes before sealing (to hide lengths)
    value_padding: int | None = None


@runtime_checkable
class FormatDeclaration(Protocol):
    """Optional hook of a ``StoreCapability``: what the store's files are. A store without it leaves
    AICO-DAR-009 "not implemented"; a store with it must describe its files truthfully, because the suite reads
    them to check."""

    def declared_format(self) -> StoreFormat: ...


@runtime_checkable
class StoreCapability(Protocol):
    name: str  # "libsql", "duckdb", "rocksdb", "chroma"
    kind: Literal["records", "vectors"]

    def open(self, session: KeySession, directory: Path, *, audit: AuditSink | None = None,
             ) -> RecordStore | VectorStore:
        """Open (creating if ``directory`` is missing or empty) the store in ``directory``. ``audit``, when
        given, is an ``AuditSink`` of the same build: the store reports data access and crypto operations to
        it, never values or keys. Raise ``IntegrityViolation`` when the data there does not open with this
        session's keys (wrong key, corrupted, truncated, another store's file), leaving every file as it was."""

    def forensic_image(self, session: KeySession, directory: Path) -> Mapping[str, bytes]:
        """Test hook, like ``KeySession.secret_material``: for the closed store in ``directory``, map each
        file's path (relative to ``directory``) to its raw bytes followed by everything a holder of the
        session's keys can decrypt from it without the engine: every page, block or sealed value, live or
        stale. The suite checks that live data shows up here and that deleted data, after ``compact``, does
        not. It never writes the result anywhere."""


StoreMap = Mapping[str, StoreCapability]
