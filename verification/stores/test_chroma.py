"""Chroma store internals: nothing reaches the network, documents sealed and ids opaque, exact re-ranking,
rebuild under the active key, recovery from an interrupted rebuild, heap hardening."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aico_secure.keys import UnlockedKeyring
from aico_secure.stores.chroma import COLLECTION_PREFIX, ChromaStore
from aico_secure.stores.errors import InvalidRecordError
from aico_secure.stores.heap import harden_heap


def test_nothing_tries_the_network(keyring: UnlockedKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    def create_connection(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    with ChromaStore.open(keyring, tmp_path / "c") as store:
        store.add("a", [0.1] * 8, "doc", {})
        store.query([0.1] * 8, 1)
        store.compact()
    assert attempts == []


def test_query_in_dcpe_order_and_reranked(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    points = rng.standard_normal((400, 24))
    with ChromaStore.open(keyring, tmp_path / "c") as store:
        store.add_many([(f"p{i}", p, f"d{i}", {}) for i, p in enumerate(points)])
        hits, exact = 0, 0
        for i in range(40):
            query = points[i] + rng.standard_normal(24) * 0.05
            truth = [f"p{t}" for t in np.argsort(((points - query) ** 2).sum(1))[:10]]
            hits += len(set(store.query(query, 10)) & set(truth))
            exact += store.query(query, 10, rerank=True) == truth
    assert hits / 400 >= 0.95, "DCPE order"
    assert exact >= 38, "re-ranked results should be the exact top 10 in order"


def test_compact_rebuilds_under_the_active_key(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with ChromaStore.open(keyring, tmp_path / "c") as store:
        store.add("a", [1.0, 2.0, 3.0, 4.0], "doc-a", {"k": "v"})
        first = store.index_key_id
        store.rotate_data_key()
        store.add("b", [4.0, 3.0, 2.0, 1.0], "doc-b", {})
        assert store.index_key_id == first  # ids and DCPE stay under the collection's key until a rebuild
        store.compact()
        assert store.index_key_id == keyring.active_data_key("chroma").key_id.hex() != first
        assert store.get("a") == ("doc-a", {"k": "v"}) and store.query([4.0, 3.0, 2.0, 1.0], 1) == ["b"]


def test_interrupted_rebuild_is_discarded(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with ChromaStore.open(keyring, tmp_path / "c") as store:
        store.add("a", [1.0, 0.0, 0.0, 0.0], "doc-a", {})
        partial = store._create_generation(store._generation + 1, complete=False)
        partial.add(ids=["junk"], embeddings=[[0.0, 0.0, 0.0, 1.0]], documents=["junk"])
    with ChromaStore.open(keyring, tmp_path / "c") as store:
        assert store.ids() == ["a"]
        names = [c.name for c in store._client.list_collections()]
        assert names == [f"{COLLECTION_PREFIX}1"]


BAD_EMBEDDINGS = [[], [float("nan")] * 4, "abcd", [1.0, 2.0],
                  # NumPy vectors take a faster check than lists; it must refuse the same things
                  np.array([], dtype=np.float32), np.array([np.nan] * 4), np.array([1.0, np.inf, 0.0, 0.0]),
                  np.array([1.0, 2.0], dtype=np.float32), np.ones((2, 4)), np.array(["a", "b", "c", "d"])]


@pytest.mark.parametrize("bad", BAD_EMBEDDINGS)
def test_bad_embeddings_are_typed_errors(keyring: UnlockedKeyring, tmp_path: Path, bad: Any) -> None:
    with ChromaStore.open(keyring, tmp_path / "c") as store:
        store.add("first", [1.0, 2.0, 3.0, 4.0], "d", {})
        with pytest.raises(InvalidRecordError):
            store.add("x", bad, "d", {})
        with pytest.raises(InvalidRecordError):
            store.query(bad, 1)


def test_numpy_and_list_embeddings_are_stored_and_found_alike(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with ChromaStore.open(keyring, tmp_path / "c") as store:
        store.add("list", [1.0, 0.0, 0.0, 0.0], "d", {})
        store.add("array", np.array([0.0, 0.0, 0.0, 1.0]), "d", {})
        assert store.query(np.array([0.0, 0.0, 0.1, 0.9], dtype=np.float32), 1) == ["array"]
        assert store.query([0.9, 0.1, 0.0, 0.0], 1, rerank=True) == ["list"]


def test_heap_hardening_is_on_after_open(keyring: UnlockedKeyring, tmp_path: Path) -> None:
    with ChromaStore.open(keyring, tmp_path / "c"):
        assert harden_heap() is True
