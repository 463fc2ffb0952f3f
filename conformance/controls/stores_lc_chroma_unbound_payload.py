"""Chroma seals each item's payload without binding it to the item's id (empty associated record key) and does
not compare the id sealed inside with the one asked for: a payload moved to another item opens as that item's."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import numpy as np

from aico_secure import envelope
from aico_secure.envelope import RecordContext
from aico_secure.errors import AicoSecureError
from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.chroma import PAYLOAD_KEY, SEAL_COLLECTION, STORE_KIND, ChromaStore, _unpack
from aico_secure.stores.errors import StoreIntegrityError
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-005",)
_UNBOUND = RecordContext(store=STORE_KIND, collection=SEAL_COLLECTION, record_key=b"")


class UnboundChromaStore(ChromaStore):
    def _seal(self, blinded: str, payload: bytes) -> str:
        sealed = envelope.seal(self._keyring.active_data_key(self.purpose), payload, _UNBOUND)
        return base64.b64encode(sealed).decode("ascii")

    def _open_document(self, blinded: str, metadata: Mapping[str, Any] | None, *, with_metadata: bool = True,
                       ) -> tuple[str, str, dict[str, str], np.ndarray]:
        try:
            sealed = base64.b64decode(str((metadata or {}).get(PAYLOAD_KEY, "")), validate=True)
            payload = envelope.open_with(lambda kid: self._keyring.data_key(self.purpose, kid), sealed, _UNBOUND)
            return _unpack(payload, with_metadata=with_metadata)
        except (AicoSecureError, binascii.Error, ValueError, UnicodeDecodeError):
            raise StoreIntegrityError("chroma store: a sealed item failed authentication") from None

    def get(self, item_id: str) -> tuple[str, dict[str, str]] | None:
        collection, index = self._ready()
        found = collection.get(ids=[index.blind_id(item_id)], include=["metadatas"])
        if not found["ids"]:
            return None
        _name, document, metadata, _vector = self._open_document(found["ids"][0], found["metadatas"][0])
        return document, metadata


def build() -> Target:
    stores = {**reference_stores(), "chroma": ReferenceStore("chroma", UnboundChromaStore)}
    return reference_with("Chroma payloads not bound to their ids", stores=stores)
