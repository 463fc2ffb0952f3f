"""The reference build's stores behind the target contract: thin adapters over ``aico_secure.stores``.

The adapters do three things only: find the ``UnlockedKeyring`` inside the session, translate the stores'
typed errors into the contract's ``IntegrityViolation``, and import each engine lazily (so a run that never
touches Chroma never pays for importing it). Through the contract RocksDB record names are always blinded:
the suite treats every key as sensitive.
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from aico_secure.audit.events import AuditSink
from aico_secure.keys import UnlockedKeyring
from aico_secure.stores import forensics
from aico_secure.stores.errors import StoreIntegrityError
from aico_secure.stores.interface import RecordStore as RecordImpl
from aico_secure.stores.interface import VectorStore as VectorImpl
from aico_secure.target.errors import ContractError, IntegrityViolation
from aico_secure.target.keys import KeySession
from aico_secure.target.stores import StoreFormat

T = TypeVar("T")

# store name -> (module, class, kind, extra keyword arguments for open)
IMPLEMENTATIONS: dict[str, tuple[str, str, Literal["records", "vectors"], dict[str, Any]]] = {
    "libsql": ("aico_secure.stores.sqlcipher", "SqlCipherStore", "records", {}),
    "duckdb": ("aico_secure.stores.duckdb", "DuckDbStore", "records", {}),
    "rocksdb": ("aico_secure.stores.rocksdb", "RocksDbStore", "records", {"blind_names": True}),
    "chroma": ("aico_secure.stores.chroma", "ChromaStore", "vectors", {}),
}


def keyring_of(session: KeySession) -> UnlockedKeyring:
    keyring = getattr(session, "keyring", None)
    if not isinstance(keyring, UnlockedKeyring):
        raise ContractError("reference stores open only with a session of the reference build's keys capability")
    return keyring


def checked(call: Callable[..., T], *args: Any) -> T:
    try:
        return call(*args)
    except StoreIntegrityError as exc:
        raise IntegrityViolation(str(exc)) from None


def sealing_key_of(impl: RecordImpl | VectorImpl, key: str) -> str | None:
    """Which data key protects record ``key`` as the engine holds it now. RocksDB and Chroma seal each value:
    the id is read from the stored envelope's header. SQLCipher and DuckDB encrypt whole pages: the id is the
    key the open connection's pages are encrypted under (``PRAGMA rekey`` / the rebuild move every page)."""
    from aico_secure import envelope

    if isinstance(impl, VectorImpl):
        chroma = importlib.import_module("aico_secure.stores.chroma")
        collection, index = impl._ready()  # type: ignore[attr-defined]
        found = collection.get(ids=[index.blind_id(key)], include=["metadatas"])
        if not found["ids"]:
            return None
        payload = (found["metadatas"][0] or {}).get(chroma.PAYLOAD_KEY, "")
        return envelope.key_id_of(base64.b64decode(payload, validate=True)).hex()
    if impl.get(key) is None:
        return None
    rocksdb = importlib.import_module("aico_secure.stores.rocksdb")
    if isinstance(impl, rocksdb.RocksDbStore):
        sealed = impl._records.get(impl._stored_key(key))
        return None if sealed is None else envelope.key_id_of(sealed).hex()
    return impl.data_key_id


class ReferenceRecordStore:
    """Contract view of a ``RecordStore`` implementation."""

    def __init__(self, impl: RecordImpl) -> None:
        self.impl = impl

    def __repr__(self) -> str:
        return f"ReferenceRecordStore({self.impl!r})"

    def put(self, key: str, value: bytes) -> None:
        checked(self.impl.put, key, value)

    def get(self, key: str) -> bytes | None:
        return checked(self.impl.get, key)

    def delete(self, key: str) -> None:
        checked(self.impl.delete, key)

    def keys(self) -> list[str]:
        return checked(self.impl.keys)

    def compact(self) -> None:
        checked(self.impl.compact)

    def rotate_data_key(self) -> None:
        checked(self.impl.rotate_data_key)

    def sealing_key_id(self, key: str) -> str | None:
        """Test hook (``SealingKeyHook``): read from what is stored now (see ``sealing_key_of``)."""
        return checked(sealing_key_of, self.impl, key)

    def close(self) -> None:
        self.impl.close()


class ReferenceVectorStore:
    """Contract view of a ``VectorStore`` implementation."""

    def __init__(self, impl: VectorImpl) -> None:
        self.impl = impl

    def __repr__(self) -> str:
        return f"ReferenceVectorStore({self.impl!r})"

    def add(self, item_id: str, embedding: Sequence[float], document: str, metadata: Mapping[str, str]) -> None:
        checked(self.impl.add, item_id, embedding, document, metadata)

    def query(self, embedding: Sequence[float], k: int) -> list[str]:
        return checked(self.impl.query, embedding, k)

    def get(self, item_id: str) -> tuple[str, dict[str, str]] | None:
        return checked(self.impl.get, item_id)

    def delete(self, item_id: str) -> None:
        checked(self.impl.delete, item_id)

    def ids(self) -> list[str]:
        return checked(self.impl.ids)

    def compact(self) -> None:
        checked(self.impl.compact)

    def rotate_data_key(self) -> None:
        checked(self.impl.rotate_data_key)

    def sealing_key_id(self, item_id: str) -> str | None:
        """Test hook (``SealingKeyHook``): read from what is stored now (see ``sealing_key_of``)."""
        return checked(sealing_key_of, self.impl, item_id)

    def close(self) -> None:
        self.impl.close()


class ReferenceStore:
    """One store of the reference build (``name`` is a key of ``IMPLEMENTATIONS``)."""

    def __init__(self, name: str, implementation: type[RecordImpl] | type[VectorImpl] | None = None) -> None:
        module, cls, kind, options = IMPLEMENTATIONS[name]
        self.name = name
        self.kind: Literal["records", "vectors"] = kind
        self._module, self._cls, self._options = module, cls, options
        self._implementation = implementation

    def __repr__(self) -> str:
        return f"ReferenceStore({self.name!r})"

    def implementation(self) -> Any:
        """The implementation class: given explicitly (negative controls subclass one), or imported lazily."""
        if self._implementation is not None:
            return self._implementation
        return getattr(importlib.import_module(self._module), self._cls)

    def open(self, session: KeySession, directory: Path, *, audit: AuditSink | None = None,
             ) -> ReferenceRecordStore | ReferenceVectorStore:
        impl = checked(lambda: self.implementation().open(keyring_of(session), Path(directory), audit=audit,
                                                          **self._options))
        if self.kind == "vectors":
            return ReferenceVectorStore(impl)
        return ReferenceRecordStore(impl)

    def forensic_image(self, session: KeySession, directory: Path) -> Mapping[str, bytes]:
        return forensics.image(self.name, keyring_of(session), Path(directory))

    def declared_format(self) -> StoreFormat:
        """Hook (``FormatDeclaration``): what the implementation says its files are (its ``FORMAT``)."""
        return StoreFormat(**self.implementation().FORMAT)


def reference_stores() -> dict[str, ReferenceStore]:
    return {name: ReferenceStore(name) for name in IMPLEMENTATIONS}
