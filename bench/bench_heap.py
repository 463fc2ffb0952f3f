"""What Chroma's heap hardening costs the host program: its own allocations, outside any store call.

Three states of one process, measured in turn (interleaved, ``ROUNDS`` times, median) on the same workload:
``clean`` (no Chroma store ever opened), ``after store`` (a Chroma store opened, used and closed: the current
scoped hardening, perturbation on only inside the store's engine calls) and ``process-wide`` (glibc
``M_PERTURB`` left on, as the hardening used to be from the first open on). The workload is what a host does
between store calls: bytes objects of mixed sizes (most above glibc's thread cache, which perturbation never
touches, up to a few hundred KiB) and JSON round trips of a small document. Ratios are clean / state time
(1.0 = no cost). Run: ``python bench/run.py heap``.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aico_secure.keys import Keyring
from aico_secure.stores.chroma import ChromaStore
from aico_secure.stores.heap import M_PERTURB, PERTURB_BYTE, _mallopt, heap_perturbed

ROUNDS = 5
SIZES = (64, 700, 2_000, 6_000, 20_000, 64_000, 180_000)
DOCUMENT = {"user": "u-1", "turns": [{"role": "user", "text": "hello " * 40, "n": n} for n in range(30)]}


def _bytes_churn() -> None:
    rng = random.Random(7)
    alive: list[bytes] = []
    for _ in range(20_000):
        alive.append(bytes(rng.choice(SIZES)))
        if len(alive) > 64:
            del alive[rng.randrange(len(alive))]


def _json_churn() -> None:
    for _ in range(1_500):
        json.loads(json.dumps(DOCUMENT))


WORKLOADS: dict[str, Callable[[], None]] = {"bytes": _bytes_churn, "json": _json_churn}


def _timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _use_a_store(root: Path) -> None:
    keyring = Keyring.create(root / "keys" / "keyring.json", "bench-password", profile="test")
    with ChromaStore.open(keyring, root / "c") as store:
        store.add_many([(f"i{n}", [float(n), 1.0, 2.0, 3.0], f"doc {n}", {}) for n in range(200)])
        store.query([3.0, 1.0, 2.0, 3.0], 5)
        store.delete("i3")


def main() -> None:
    mallopt = _mallopt()
    if mallopt is None:
        print("no glibc mallopt here: heap hardening is a no-op, nothing to measure")
        return
    times: dict[str, dict[str, list[float]]] = {w: {"clean": [], "after store": [], "process-wide": []}
                                                for w in WORKLOADS}
    with tempfile.TemporaryDirectory(prefix="aico-bench-heap-") as tmp:
        for workload, fn in WORKLOADS.items():  # the clean state first: nothing has opened a store yet
            fn()  # warm-up
            for _ in range(ROUNDS):
                times[workload]["clean"].append(_timed(fn))
        _use_a_store(Path(tmp))
        assert not heap_perturbed(), "the store left perturbation on"
        for _ in range(ROUNDS):
            for workload, fn in WORKLOADS.items():
                times[workload]["after store"].append(_timed(fn))
                mallopt(M_PERTURB, PERTURB_BYTE)
                try:
                    times[workload]["process-wide"].append(_timed(fn))
                finally:
                    mallopt(M_PERTURB, 0)
    print(f"{'workload':<10}{'clean s':>10}{'after store s':>15}{'process-wide s':>16}"
          f"{'ratio after':>13}{'ratio process-wide':>20}")
    for workload, by_state in times.items():
        clean, after, wide = (statistics.median(by_state[s]) for s in ("clean", "after store", "process-wide"))
        print(f"{workload:<10}{clean:>10.3f}{after:>15.3f}{wide:>16.3f}{clean / after:>13.2f}{clean / wide:>20.2f}")
