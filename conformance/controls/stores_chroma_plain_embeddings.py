"""Chroma gets the embeddings as they are: documents and metadata are still sealed and ids blinded, but the
vectors lie in Chroma's SQLite log and HNSW files in plaintext float32."""

from __future__ import annotations

import numpy as np

from aico_secure.reference.stores import ReferenceStore, reference_stores
from aico_secure.stores.chroma import ChromaStore, _IndexKeys
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-DAR-002",)


class PlainEmbeddingChromaStore(ChromaStore):
    def _encrypt_vectors(self, index: _IndexKeys, vectors: np.ndarray) -> np.ndarray:
        return np.asarray(vectors, dtype=np.float32)


def build() -> Target:
    stores = {**reference_stores(), "chroma": ReferenceStore("chroma", PlainEmbeddingChromaStore)}
    return reference_with("Chroma embeddings stored unencrypted", stores=stores)
