"""The data-at-rest capability: each store a build has, opened with an unlocked key session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from aico_secure.target.keys import KeySession


@runtime_checkable
class RecordStore(Protocol):
    """An open key-value view of a store (libSQL, DuckDB, RocksDB)."""

    def put(self, key: str, value: bytes) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def delete(self, key: str) -> None: ...
    def keys(self) -> list[str]: ...

    def compact(self) -> None:
        """Run the engine's own compaction / VACUUM / checkpoint so deleted data can leave the disk."""

    def rotate_data_key(self) -> None:
        """Rotate this store's data key the way the engine allows (SQLCipher: rekey)."""

    def close(self) -> None: ...


@runtime_checkable
class VectorStore(Protocol):
    """An open vector store (ChromaDB)."""

    def add(self, item_id: str, embedding: Sequence[float], document: str, metadata: Mapping[str, str]) -> None: ...
    def query(self, embedding: Sequence[float], k: int) -> list[str]: ...
    def get(self, item_id: str) -> tuple[str, dict[str, str]] | None: ...
    def delete(self, item_id: str) -> None: ...
    def compact(self) -> None: ...
    def rotate_data_key(self) -> None: ...
    def close(self) -> None: ...


@runtime_checkable
class StoreCapability(Protocol):
    name: str  # "libsql", "duckdb", "rocksdb", "chroma"
    kind: Literal["records", "vectors"]

    def open(self, session: KeySession, directory: Path) -> RecordStore | VectorStore:
        """Open (creating if needed) the store in ``directory``. Raise ``IntegrityViolation`` when the data
        there does not open with this session's keys (wrong key, corrupted, truncated, another store's file)."""


StoreMap = Mapping[str, StoreCapability]
