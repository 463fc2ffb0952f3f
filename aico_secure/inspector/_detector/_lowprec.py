"""Low-precision forms of an embedding canary, as literal byte runs for the shared pass.

Vector stores and quantised indexes keep embeddings as float16, bfloat16 or int8. Within-tolerance numeric
matching at every 1- and 2-byte alignment would cost a pass as long as the float32 one per precision, and the
rounding these formats apply is deterministic, so each form is computed the ways writers compute it and its
runs of ``RUN`` consecutive components become literals:

* float16: IEEE half, rounded to nearest from the float64 and from the float32 value (double rounding can
  differ by one unit in the last place);
* bfloat16: the upper half of the float32, rounded to nearest even and truncated (both are in use);
* int8 (symmetric): ``round(v / max|v| * 127)``, the scale-free quantisation most int8 indexes use (also what
  an L2-normalised copy quantises to);
* uint8 (min-max): ``round((v - min) / (max - min) * 255)``.

Each run starts every ``RUN // 2`` components, so a stored vector matches several overlapping runs (reported
once), and a single component rounded differently still leaves the other runs to match. A run is used only if
at least half of its components are informative (not near zero), so runs of zeros never become patterns.
Quantisation with per-dimension ranges learnt from a training set (product or scalar quantisers such as FAISS
SQ8) cannot be derived from the vector alone and is not detected.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

RUN = 8


def _bf16(values: np.ndarray, *, truncate: bool) -> bytes:
    bits = values.astype("<f4").view("<u4").astype(np.uint64)
    if not truncate:
        bits = bits + 0x7FFF + ((bits >> 16) & 1)
    return (bits >> 16).astype("<u2").tobytes()


def forms(vector: Sequence[float]) -> Iterator[tuple[str, bytes, int, np.ndarray]]:
    """``(encoding, bytes, itemsize, informative mask)`` of every low-precision form of ``vector``."""
    base = np.asarray(vector, dtype=np.float64)
    informative = np.abs(base) > 1e-3 * float(np.max(np.abs(base)))
    seen: set[bytes] = set()

    def once(name: str, data: bytes, size: int) -> Iterator[tuple[str, bytes, int, np.ndarray]]:
        if data not in seen:
            seen.add(data)
            yield name, data, size, informative

    yield from once("float16-le", base.astype("<f2").tobytes(), 2)
    yield from once("float16-le", base.astype("<f4").astype("<f2").tobytes(), 2)
    yield from once("bfloat16-le", _bf16(base, truncate=False), 2)
    yield from once("bfloat16-le", _bf16(base, truncate=True), 2)
    peak = float(np.max(np.abs(base)))
    yield from once("int8-absmax", np.clip(np.rint(base / peak * 127), -127, 127).astype(np.int8).tobytes(), 1)
    low, high = float(np.min(base)), float(np.max(base))
    if high > low:
        yield from once("uint8-minmax", np.rint((base - low) / (high - low) * 255).astype(np.uint8).tobytes(), 1)


def runs(vector: Sequence[float]) -> Iterator[tuple[str, bytes, int]]:
    """``(encoding, literal, first component)`` for each usable run of each low-precision form."""
    for encoding, data, size, informative in forms(vector):
        count = len(data) // size
        run = min(RUN, count)
        for first in range(0, max(1, count - run + 1), max(1, RUN // 2)):
            if int(np.count_nonzero(informative[first:first + run])) * 2 < run:
                continue
            literal = data[first * size:(first + run) * size]
            if len(set(literal)) < 4:
                continue  # too uniform to be distinctive
            yield encoding, literal, first
        if count > run and (count - run) % max(1, RUN // 2):
            first = count - run  # the tail run, so the last components are covered too
            if int(np.count_nonzero(informative[first:])) * 2 >= run:
                yield encoding, data[first * size:], first
