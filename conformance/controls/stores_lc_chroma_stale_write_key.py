"""Chroma seals documents with the data key it looked up for its first write and keeps using that object:
``rotate_data_key`` adds a new key to the keyring, but new items are still sealed under the old one."""

from __future__ import annotations

import base64

from aico_secure import envelope
from aico_secure.envelope import DataKey, RecordContext
from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.chroma import SEAL_COLLECTION, STORE_KIND, ChromaStore
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-008",)


class StaleKeyChromaStore(ChromaStore):
    _write_key: DataKey | None = None

    def _seal(self, blinded: str, payload: bytes) -> str:
        if self._write_key is None:
            self._write_key = self._keyring.active_data_key(self.purpose)
        context = RecordContext(store=STORE_KIND, collection=SEAL_COLLECTION, record_key=blinded.encode())
        return base64.b64encode(envelope.seal(self._write_key, payload, context)).decode("ascii")


def build() -> Target:
    stores = {**reference_stores(), "chroma": ReferenceStore("chroma", StaleKeyChromaStore)}
    return reference_with("Chroma keeps sealing with the pre-rotation key", stores=stores)
