"""The implementation-side interface every store of the reference build implements.

Two shapes, because vector search does not fit a key-value view: ``RecordStore`` (libSQL, DuckDB, RocksDB)
and ``VectorStore`` (Chroma). Both are opened from an ``UnlockedKeyring`` and report to an optional
``AuditSink``. The target contract (``aico_secure.target.stores``) is the suite's view of the same thing;
``aico_secure.reference.stores`` adapts one to the other.

Durability: a write has reached the engine's log when the call returns, so killing the process afterwards
loses nothing (power loss is left to the engines' own sync settings, documented in docs/stores.md).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

from aico_secure.audit.events import AuditSink
from aico_secure.keys import UnlockedKeyring
from aico_secure.stores.errors import InvalidRecordError, StoreClosedError

MAX_KEY_CHARS = 1024
MAX_VALUE_BYTES = 64 << 20
MAX_DOCUMENT_BYTES = 16 << 20
MAX_METADATA_ITEMS = 256


def check_key(key: object, what: str = "record key") -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS or "\0" in key:
        raise InvalidRecordError(f"a {what} is a non-empty string of at most {MAX_KEY_CHARS} characters, no NUL")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRecordError(f"a {what} must be valid Unicode (no lone surrogates)") from None
    return key


def check_value(value: object) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidRecordError("a record value is bytes")
    data = bytes(value)
    if len(data) > MAX_VALUE_BYTES:
        raise InvalidRecordError(f"a record value is at most {MAX_VALUE_BYTES} bytes")
    return data


def check_embedding(embedding: object, dimension: int | None = None) -> list[float]:
    if isinstance(embedding, str | bytes | bytearray) or not isinstance(embedding, Iterable):
        raise InvalidRecordError("an embedding is a sequence of numbers")
    try:
        values = [float(x) for x in embedding]
    except (TypeError, ValueError):
        raise InvalidRecordError("an embedding is a sequence of numbers") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise InvalidRecordError("an embedding is a non-empty sequence of finite numbers")
    if dimension is not None and len(values) != dimension:
        raise InvalidRecordError(f"this store holds embeddings of dimension {dimension}, got {len(values)}")
    return values


def check_metadata(metadata: object) -> dict[str, str]:
    if not isinstance(metadata, Mapping) or len(metadata) > MAX_METADATA_ITEMS:
        raise InvalidRecordError(f"metadata is a mapping of at most {MAX_METADATA_ITEMS} string pairs")
    out: dict[str, str] = {}
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise InvalidRecordError("metadata keys and values are strings")
        out[check_key(k, "metadata key")] = v
    return out


class _Closable(ABC):
    """Context-manager support and the closed-store guard shared by both shapes."""

    purpose: ClassVar[str]
    _closed: bool = False

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError(f"the {self.purpose} store is closed")

    @abstractmethod
    def close(self) -> None:
        """Release the engine; idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class RecordStore(_Closable):
    """An encrypted key-value store. Keys are strings, values bytes."""

    @classmethod
    @abstractmethod
    def open(cls, keyring: UnlockedKeyring, directory: Path, *, audit: AuditSink | None = None) -> Self:
        """Open or create the store in ``directory``; ``StoreIntegrityError`` if its files do not open with
        any of this keyring's data keys for the store's purpose (and nothing is written in that case)."""

    @abstractmethod
    def put(self, key: str, value: bytes) -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def keys(self) -> list[str]: ...

    @abstractmethod
    def compact(self) -> None:
        """Make deleted data leave the disk (VACUUM, rebuild, forced compaction), WAL included."""

    @abstractmethod
    def rotate_data_key(self) -> None:
        """Rotate the purpose's data key in the keyring and move the store to it as far as the engine allows."""

    @property
    @abstractmethod
    def data_key_id(self) -> str:
        """Hex id of the data key the store's files are currently encrypted under (not secret)."""


class VectorStore(_Closable):
    """An encrypted vector store: similarity search over embeddings, documents and metadata sealed."""

    @classmethod
    @abstractmethod
    def open(cls, keyring: UnlockedKeyring, directory: Path, *, audit: AuditSink | None = None) -> Self: ...

    @abstractmethod
    def add(self, item_id: str, embedding: Sequence[float], document: str, metadata: Mapping[str, str]) -> None:
        """Insert or replace one item."""

    @abstractmethod
    def query(self, embedding: Sequence[float], k: int) -> list[str]:
        """Ids of the ``k`` items nearest to ``embedding`` (Euclidean distance), nearest first."""

    @abstractmethod
    def get(self, item_id: str) -> tuple[str, dict[str, str]] | None: ...

    @abstractmethod
    def delete(self, item_id: str) -> None: ...

    @abstractmethod
    def ids(self) -> list[str]: ...

    @abstractmethod
    def compact(self) -> None: ...

    @abstractmethod
    def rotate_data_key(self) -> None: ...
