"""Encrypted vs plaintext stores on the same workload, side by side in one run, with peak memory.

Pairs (encrypted / baseline): SQLCipher store vs the stdlib ``sqlite3`` with the same schema and pragmas
(and, marked ``*``, vs the same sqlcipher3 library without a key, which isolates the cost of encryption);
DuckDB with AES-GCM database encryption (httpfs/OpenSSL) vs the same attach without a key; the sealed RocksDB
store (blinded names, AEAD values) vs raw rocksdict with the same engine options; the Chroma store (DCPE
embeddings, sealed documents, blinded ids, exact re-ranking, heap hardening) vs plain Chroma. Each variant
runs in its own child process (fresh interpreter) so its peak RSS is its own; every child repeats the workload
``ROUNDS`` times on fresh directories and reports the median. Ratios are encrypted / plaintext throughput
(1.0 = no cost). ``write`` is batched (one transaction or WriteBatch per batch), ``write-1`` one record per
transaction, ``read`` point reads, ``scan`` the ordered key listing. Run: ``python bench/run.py stores``;
``AICO_BENCH_STORES_SCALE=0.25`` shrinks the workloads, ``AICO_BENCH_STORES=libsql,rocksdb`` picks stores,
``AICO_BENCH_CLOCK=cpu`` times with the process's CPU time instead of the wall clock: on a machine other jobs
share, wall-clock ratios swing with whoever else has the cores, CPU-time ratios much less (they leave out time
spent waiting for the disk, which the libSQL and RocksDB workloads barely do: WAL without fsync per commit).
CPU time adds up all of a process's threads, so for DuckDB and Chroma, which work in parallel, it measures
work done rather than speed.
"""

from __future__ import annotations

import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROUNDS = 2
SCALE = float(os.environ.get("AICO_BENCH_STORES_SCALE", "1.0"))
CLOCK = os.environ.get("AICO_BENCH_CLOCK", "wall")
# Targets per store and metric: encrypted / plaintext throughput. libSQL's are against the stdlib sqlite3;
# NOKEY_TARGETS hold it against the same sqlcipher3 library without a key (the cost of encryption alone).
TARGETS = {"libsql": {"write": 0.8, "read": 0.8}, "duckdb": {"read": 0.8},
           "rocksdb": {"write": 0.4, "write-4k": 0.8}, "chroma": {"query": 0.8}}
NOKEY_TARGETS = {"write": 0.9, "read": 0.9}


def _n(base: int) -> int:
    return max(10, int(base * SCALE))


def _timed(fn: Callable[[], Any]) -> float:
    clock = time.process_time if CLOCK == "cpu" else time.perf_counter
    start = clock()
    fn()
    return clock() - start


def _each(call: Callable[[Any], None], batches: Any) -> None:
    for batch in batches:
        call(batch)


def _keyring(root: Path) -> Any:
    from aico_secure.keys import Keyring

    return Keyring.create(root / "keys" / "keyring.json", "bench-password", profile="test")


def _records(count: int, size: int) -> list[tuple[str, bytes]]:
    rng = random.Random(1)
    return [(f"record-{i:08d}", rng.randbytes(size)) for i in range(count)]


# ---- libSQL: SQLCipher store vs stdlib sqlite3 -------------------------------------------------------------
def libsql(variant: str, root: Path) -> dict[str, float]:
    items = _records(_n(15_000), 512)
    batches = [items[i:i + 200] for i in range(0, len(items), 200)]
    singles = items[:_n(2_000)]
    import sqlcipher3

    if variant == "encrypted":
        from aico_secure.stores.sqlcipher import SqlCipherStore

        store = SqlCipherStore.open(_keyring(root), root / "db")
        write = _timed(lambda: _each(store.put_many, batches))
        read = _timed(lambda: [store.get(k) for k, _ in items])
        scan = _timed(store.keys)
        single = _timed(lambda: _each(lambda kv: store.put(kv[0] + "-1", kv[1]), singles))
        store.close()
    else:
        conn = (sqlcipher3.connect if variant == "sqlcipher-nokey" else sqlite3.connect)(
            str(root / "plain.db"), isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "secure_delete = ON", "temp_store = MEMORY"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("CREATE TABLE records (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")
        sql = "INSERT INTO records (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"

        def put_all() -> None:
            for batch in batches:
                conn.execute("BEGIN")
                conn.executemany(sql, batch)
                conn.execute("COMMIT")

        write = _timed(put_all)
        read = _timed(lambda: [conn.execute("SELECT value FROM records WHERE key = ?", (k,)).fetchone()
                               for k, _ in items])
        scan = _timed(lambda: conn.execute("SELECT key FROM records ORDER BY key").fetchall())
        single = _timed(lambda: [conn.execute(sql, (k + "-1", v)) for k, v in singles])  # autocommit each
        conn.close()
    return {"write": len(items) / write, "write-1": len(singles) / single, "read": len(items) / read,
            "scan": len(items) / scan}


# ---- DuckDB: encrypted vs plain attach ---------------------------------------------------------------------
def duckdb(variant: str, root: Path) -> dict[str, float]:
    from aico_secure.stores.duckdb import attach, connect

    rows = _n(600_000)
    key = _keyring(root).active_data_key("duckdb") if variant == "encrypted" else None
    (root / "tmp").mkdir()
    conn = connect(root / "tmp")
    attach(conn, root / "a.duckdb", "a", key)
    write = _timed(lambda: (conn.execute(
        "CREATE TABLE a.events AS SELECT i AS id, i % 97 AS category, (i * 7919) % 10007 / 3.0 AS amount, "
        "md5(i::VARCHAR) AS note FROM range(?) t(i)", [rows]), conn.execute("CHECKPOINT a")))
    conn.execute("DETACH a")
    attach(conn, root / "a.duckdb", "a", key)  # read back from disk: every block goes through decryption
    queries = ["SELECT category, sum(amount), avg(amount), count(*) FROM a.events GROUP BY category",
               "SELECT count(DISTINCT note) FROM a.events",
               "SELECT max(amount) FROM a.events WHERE note LIKE 'a%'"]
    read = _timed(lambda: [conn.execute(q).fetchall() for q in queries])
    items = _records(_n(5_000), 256)
    conn.execute("CREATE TABLE a.records (key VARCHAR PRIMARY KEY, value BLOB NOT NULL)")

    def put_all() -> None:
        for i in range(0, len(items), 500):
            conn.execute("BEGIN")
            conn.executemany("INSERT OR REPLACE INTO a.records VALUES (?, ?)", [list(r) for r in items[i:i + 500]])
            conn.execute("COMMIT")

    kv_write = _timed(put_all)
    conn.close()
    return {"write": rows / write, "read": rows * len(queries) / read, "kv-write": len(items) / kv_write}


# ---- RocksDB: sealed store vs raw rocksdict ----------------------------------------------------------------
def _rocksdb_rates(variant: str, directory: Path, keyring: Any, items: list[tuple[str, bytes]],
                   ) -> tuple[float, float, float]:
    batches = [items[i:i + 500] for i in range(0, len(items), 500)]
    singles = items[:max(10, len(items) // 5)]
    if variant == "encrypted":
        from aico_secure.stores.rocksdb import RocksDbStore

        store = RocksDbStore.open(keyring, directory)
        write = _timed(lambda: _each(store.put_many, batches))
        read = _timed(lambda: [store.get(k) for k, _ in items])
        single = _timed(lambda: _each(lambda kv: store.put(kv[0] + "-1", kv[1]), singles))
        store.close()
    else:
        import rocksdict

        from aico_secure.stores.rocksdb import engine_options

        db = rocksdict.Rdict(str(directory), engine_options(), column_families={"records": engine_options()})
        records = db.get_column_family("records")
        handle = db.get_column_family_handle("records")

        def put_all() -> None:
            for batch in batches:
                wb = rocksdict.WriteBatch(raw_mode=True)
                for k, v in batch:
                    wb.put(k.encode(), v, handle)
                db.write(wb)

        write = _timed(put_all)
        read = _timed(lambda: [records.get(k.encode()) for k, _ in items])
        single = _timed(lambda: _each(lambda kv: records.put((kv[0] + "-1").encode(), kv[1]), singles))
        del records
        db.close()
    return len(items) / write, len(items) / read, len(singles) / single


def rocksdb(variant: str, root: Path) -> dict[str, float]:
    keyring = _keyring(root) if variant == "encrypted" else None
    write, read, single = _rocksdb_rates(variant, root / "small", keyring, _records(_n(30_000), 256))
    write_4k, read_4k, single_4k = _rocksdb_rates(variant, root / "large", keyring, _records(_n(6_000), 4096))
    return {"write": write, "write-1": single, "read": read, "write-4k": write_4k, "write-1-4k": single_4k,
            "read-4k": read_4k}


# ---- Chroma: encrypted store vs plain Chroma ---------------------------------------------------------------
def chroma(variant: str, root: Path) -> dict[str, float]:
    import numpy as np

    count, dimension, queries, k = _n(2000), 384, _n(150), 10
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((count, dimension)).astype(np.float32)
    probes = vectors[rng.integers(0, count, queries)] + 0.01 * rng.standard_normal((queries, dimension))
    docs = [f"document {i} " + "lorem ipsum " * 20 for i in range(count)]
    batches = range(0, count, 500)
    if variant == "encrypted":
        from aico_secure.stores.chroma import ChromaStore

        store = ChromaStore.open(_keyring(root), root / "c")
        add = _timed(lambda: _each(store.add_many, [[(f"item-{j}", vectors[j], docs[j], {"n": str(j)})
                                                      for j in range(i, min(i + 500, count))] for i in batches]))
        query = _timed(lambda: [store.query(p, k) for p in probes])
        reranked = _timed(lambda: [store.query(p, k, rerank=True) for p in probes])
        found = [store.query(p, k) for p in probes]  # untimed: the results, for recall
        found_reranked = [store.query(p, k, rerank=True) for p in probes]
        store.close()
    else:
        import chromadb
        from chromadb.config import Settings

        client = chromadb.PersistentClient(path=str(root / "c"), settings=Settings(anonymized_telemetry=False))
        collection = client.create_collection("plain", embedding_function=None,
                                              configuration={"hnsw": {"space": "l2", "ef_search": 100,
                                                                      "ef_construction": 100}})
        def add_all() -> None:
            for i in batches:
                collection.add(ids=[f"item-{j}" for j in range(i, min(i + 500, count))],
                               embeddings=vectors[i:i + 500], documents=docs[i:i + 500],
                               metadatas=[{"n": str(j)} for j in range(i, min(i + 500, count))])

        add = _timed(add_all)
        query = _timed(lambda: [collection.query(query_embeddings=p[None, :], n_results=k, include=[])
                                for p in probes])  # ids only: what the store's query returns too
        reranked = query
        found = [collection.query(query_embeddings=p[None, :], n_results=k, include=[])["ids"][0] for p in probes]
        found_reranked = found
        client.close()  # type: ignore[attr-defined]  # present in chromadb 1.5, missing from its stubs
    # Recall@k against the exact nearest neighbours (brute force), in per mille so the table's integer columns
    # show it: the encrypted column is the store's (DCPE order; "-rr" re-ranked), the plaintext one plain
    # Chroma's own HNSW recall; the ratio between them is relative. A figure to read, not a pass/fail.
    squared = (probes ** 2).sum(1)[:, None] - 2 * probes @ vectors.T + (vectors ** 2).sum(1)[None, :]
    truth = [{f"item-{j}" for j in row} for row in np.argsort(squared, axis=1)[:, :k]]

    def recall(results: list[list[str]]) -> float:
        return 1000 * sum(len(t & set(r)) for t, r in zip(truth, results, strict=True)) / (k * queries)

    return {"add": count / add, "query": queries / query, "query-rerank": queries / reranked,
            f"recall@{k}\u2030": recall(found), f"rcl-rr@{k}\u2030": recall(found_reranked)}


WORKLOADS: dict[str, Callable[[str, Path], dict[str, float]]] = {
    "libsql": libsql, "duckdb": duckdb, "rocksdb": rocksdb, "chroma": chroma}


def worker(store: str, variant: str) -> None:
    """Child process: run the workload ROUNDS times, print medians and this process's peak RSS as JSON."""
    results: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory(prefix=f"bench-{store}-") as tmp:
            for name, value in WORKLOADS[store](variant, Path(tmp)).items():
                results.setdefault(name, []).append(value)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rates": {n: statistics.median(v) for n, v in results.items()}, "peak_mib": peak_mib}))


def _measure(store: str, variant: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", store, variant],
                          capture_output=True, text=True, check=False, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{store}/{variant} failed: {proc.stderr.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _verdict(ratio: float, target: float | None) -> str:
    return "" if target is None else f">= {target}: {'met' if ratio >= target else 'MISSED'}"


def _refuse(message: str) -> None:
    print(message, file=sys.stderr)
    raise SystemExit(2)


def _chosen() -> list[str]:
    names = [n.strip() for n in os.environ.get("AICO_BENCH_STORES", "").split(",") if n.strip()]
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        _refuse(f"AICO_BENCH_STORES: unknown store(s) {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    return names or list(WORKLOADS)


def main() -> None:
    if CLOCK not in ("wall", "cpu"):
        _refuse(f"AICO_BENCH_CLOCK is wall or cpu, not {CLOCK!r}")
    stores = _chosen()
    print(f"rounds per variant: {ROUNDS} (median), scale {SCALE}, {CLOCK} clock; "
          "ratio = encrypted / plaintext throughput")
    print(f"{'store':8s} {'metric':10s} {'encrypted/s':>13s} {'plaintext/s':>13s} {'ratio':>6s}  target")
    for store in stores:
        encrypted, plain = _measure(store, "encrypted"), _measure(store, "plaintext")
        if store == "libsql":  # separates SQLCipher's encryption from the library/binding difference
            nokey = _measure(store, "sqlcipher-nokey")
            for metric, rate in encrypted["rates"].items():
                ratio = rate / nokey["rates"][metric]
                print(f"{store:8s} {metric + '*':10s} {rate:13,.0f} {nokey['rates'][metric]:13,.0f} {ratio:6.2f}  "
                      f"{_verdict(ratio, NOKEY_TARGETS.get(metric))} (* vs sqlcipher3 without a key)")
        for metric, rate in encrypted["rates"].items():
            base = plain["rates"][metric]
            ratio = rate / base
            print(f"{store:8s} {metric:10s} {rate:13,.0f} {base:13,.0f} {ratio:6.2f}  "
                  f"{_verdict(ratio, TARGETS[store].get(metric))}")
        print(f"{store:8s} {'peak RSS':10s} {encrypted['peak_mib']:11.0f}Mi {plain['peak_mib']:11.0f}Mi "
              f"{encrypted['peak_mib'] / plain['peak_mib']:6.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
