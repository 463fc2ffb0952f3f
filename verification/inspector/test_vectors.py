"""Embedding canaries as little-endian float32/float64, exact, within tolerance and normalised."""

from __future__ import annotations

import os
import random
import struct
from pathlib import Path

import numpy as np
import pytest

from verification.inspector.conftest import Inspect


@pytest.fixture
def vector() -> list[float]:
    rng = random.Random(os.urandom(8))
    return [rng.uniform(0.05, 0.9) * rng.choice((-1, 1)) for _ in range(64)]


def _plant(tmp_path: Path, payload: bytes, offset: int = 1237) -> None:
    """An HNSW-like binary: random neighbour lists and floats, the payload at an unaligned offset."""
    (tmp_path / "data_level0.bin").write_bytes(os.urandom(offset) + payload + os.urandom(4000))


@pytest.mark.parametrize("fmt,encoding", [("<f", "float32-le/exact"), ("<d", "float64-le/exact")])
def test_exact_vectors(tmp_path: Path, inspect: Inspect, vector: list[float], fmt: str, encoding: str) -> None:
    _plant(tmp_path, struct.pack(f"{fmt[0]}{len(vector)}{fmt[1]}", *vector))
    found = [f for f in inspect(vectors=[vector]).findings if f.label == "vector:0"]
    assert [(f.encoding, f.offset) for f in found] == [(encoding, 1237)]


def test_vector_within_tolerance(tmp_path: Path, inspect: Inspect, vector: list[float]) -> None:
    noisy = [x * (1 + random.uniform(-2e-4, 2e-4)) for x in vector]
    _plant(tmp_path, np.array(noisy, dtype="<f4").tobytes())
    found = [f for f in inspect(vectors=[vector]).findings if f.label == "vector:0"]
    assert [f.encoding for f in found] == ["float32-le/tolerance"]


def test_normalised_vector_as_cosine_indexes_store_it(tmp_path: Path, inspect: Inspect, vector: list[float]) -> None:
    array = np.array(vector)
    _plant(tmp_path, (array / np.linalg.norm(array)).astype("<f4").tobytes())
    found = [f.encoding for f in inspect(vectors=[vector]).findings if f.label == "vector:0"]
    assert found and all(e.startswith("float32-le/normalized") for e in found)


def test_a_partial_vector_of_sixteen_components_is_enough(tmp_path: Path, inspect: Inspect,
                                                          vector: list[float]) -> None:
    _plant(tmp_path, np.array(vector[20:36], dtype="<f4").tobytes())
    assert [f.label for f in inspect(vectors=[vector]).findings] == ["vector:0"]


def test_random_data_zeros_and_other_vectors_are_not_matched(tmp_path: Path, inspect: Inspect,
                                                             vector: list[float]) -> None:
    other = [-x for x in vector]
    (tmp_path / "noise.bin").write_bytes(os.urandom(1 << 20) + bytes(1 << 16)
                                         + np.array(other, dtype="<f4").tobytes()
                                         + np.array(vector[:10], dtype="<f4").tobytes())
    result = inspect(vectors=[vector])
    assert not result.findings and result.files_read == 1
