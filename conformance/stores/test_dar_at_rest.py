"""Encryption at rest, per store (AICO-DAR-001 libSQL, -002 Chroma, -003 DuckDB, -004 RocksDB): canaries written
through the store into keys, values, documents, metadata and embeddings are in no file of its directory, while
it is open (WAL, journals, temp files) and after it is closed; yet the data is really there (it reads back
after reopening and the build's forensic image shows it)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from aico_secure.target import KeySession, StoreCapability, VectorStore

from . import _format as fmt
from ._support import DIMENSION, Workload, found_in_image, leaks, lost_on_reopen, mismatches, open_store, write
from .conftest import per_store

FILE_LEVEL = ("libsql", "duckdb")  # stores the seed encrypts as whole files: no readable container at all


@per_store(at_rest=True)
def test_canaries_are_in_no_file_of_the_store(store: StoreCapability, store_name: str, store_dir: Path,
                                              key_session: KeySession,
                                              evidence: Callable[[str, object], None]) -> None:
    workload = Workload()
    opened = open_store(store, key_session, store_dir)
    try:
        write(opened, workload, count=12, tag="a")
        while_open = leaks(store_dir, workload)
        files_while_open = sorted(str(p.relative_to(store_dir)) for p in store_dir.rglob("*") if p.is_file())
    finally:
        opened.close()
    assert while_open.files > 0, "the store wrote no file into its directory: nothing was checked"
    assert not while_open.findings, f"caller data readable while the store is open: {while_open.findings[:5]}"

    reopened = open_store(store, key_session, store_dir)
    try:
        assert not mismatches(reopened, workload), "data does not read back after reopening"
        write(reopened, workload, count=4, tag="b")
    finally:
        reopened.close()
    closed = leaks(store_dir, workload)
    evidence("files while open", ", ".join(files_while_open))
    evidence("files scanned (closed)", closed.files)
    evidence("bytes scanned (closed)", closed.bytes)
    evidence("canaries planted", len(workload.canaries))
    evidence("embeddings planted", len(workload.vectors))
    assert closed.files > 0, "the store left no file in its directory: nothing was checked"
    assert not closed.findings, f"caller data readable on disk: {closed.findings[:5]}"
    if store_name in FILE_LEVEL:  # encrypted as whole files: no file may parse as a plaintext database
        assert not while_open.containers + closed.containers, (
            f"a readable plaintext database container: {while_open.containers + closed.containers}")

    # Positive control: the data is in this directory, and the build's forensic image really decrypts it.
    image = store.forensic_image(key_session, store_dir)
    values = workload.value_canaries
    shown = found_in_image(image, values)
    evidence("value canaries in forensic image", f"{len(shown)}/{len(values)}")
    assert len(shown) == len(values), ("the forensic image does not show the stored data: it is not in this "
                                       f"directory or the hook decrypts nothing ({len(shown)}/{len(values)})")


def _readable_sqlite_schema(path: Path) -> list[str]:
    """The tables a plain SQLite reader finds in ``path`` (read-only, nothing written next to it); empty when the
    file is not a readable SQLite database."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)) as conn:
            return [str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master")]
    except sqlite3.DatabaseError:
        return []


@per_store(at_rest=True, stores=FILE_LEVEL)
def test_file_level_store_has_no_readable_database_structure(store: StoreCapability, store_dir: Path,
                                                             key_session: KeySession,
                                                             evidence: Callable[[str, object], None]) -> None:
    """Whole-file encryption hides more than values: a plain SQLite file with sealed values still shows its
    schema, how many records there are and how large each is. No file of a file-level store may open as a
    database with a plain reader."""
    opened = open_store(store, key_session, store_dir)
    try:
        write(opened, Workload(), count=12, tag="s")
    finally:
        opened.close()
    files = [p for p in sorted(store_dir.rglob("*")) if p.is_file() and not p.is_symlink()]
    assert files, "the store left no file in its directory: nothing was checked"
    readable = {str(p.relative_to(store_dir)): tables for p in files if (tables := _readable_sqlite_schema(p))}
    evidence("files tried with a plain SQLite reader", len(files))
    assert not readable, f"files that open as plain SQLite databases, schema readable: {readable}"


FLIP_SPACING = 1024  # bytes between flipped bits: several per page at any page size SQLCipher allows above 1 KiB


@per_store(at_rest=True, stores=("libsql",))
def test_every_page_of_the_primary_store_is_authenticated(store: StoreCapability, store_dir: Path,
                                                          key_session: KeySession, tmp_path: Path,
                                                          evidence: Callable[[str, object], None]) -> None:
    """SQLCipher authenticates every page with an HMAC: a bit flipped anywhere in a page the store reads is
    refused, never read back as other data and never ignored. Without a MAC, a flip in a record's cell goes
    unnoticed or changes the record. Needs no knowledge of the page size: one bit per KiB of the database file,
    each in a trial of its own."""
    opened = open_store(store, key_session, store_dir)
    try:
        workload = write(opened, Workload(), count=12, tag="p")
    finally:
        opened.close()
    database = fmt.sqlcipher_database(store_dir)
    assert database is not None, "the store left no database file: nothing was checked"
    size = database.stat().st_size
    offsets = list(range(FLIP_SPACING // 2, size, FLIP_SPACING))
    assert offsets, f"{database.name} is {size} bytes: too small to flip a bit in"
    relative = database.relative_to(store_dir)
    accepted = [offset for offset in offsets if not fmt.flip_refused(store, key_session, store_dir,
                                                                     tmp_path / "flip-trial", relative, offset,
                                                                     workload)]
    evidence("bits flipped in the database file", f"{len(offsets)} ({size} bytes); refused: "
                                                  f"{len(offsets) - len(accepted)}")
    assert not accepted, (f"a bit flipped at offset(s) {accepted[:8]} of {database.name} was not refused: the "
                          "pages are not authenticated")


@per_store("AICO-DAR-002", stores=("chroma",))
def test_vector_search_still_finds_nearest_neighbours(store: StoreCapability, store_dir: Path, key_session: KeySession,
                                                      evidence: Callable[[str, object], None]) -> None:
    """Encrypting embeddings must not break similarity search: near-duplicates of stored vectors find them."""
    rng = random.Random(7)
    points = {f"p{i}": [rng.gauss(0, 1) for _ in range(DIMENSION)] for i in range(80)}
    opened = open_store(store, key_session, store_dir)
    assert isinstance(opened, VectorStore)
    try:
        for item_id, embedding in points.items():
            opened.add(item_id, embedding, f"doc {item_id}", {})
        probes = rng.sample(sorted(points), 12)
        hits_at_1, recall_at_5 = 0, 0.0
        for item_id in probes:
            query = [x + rng.gauss(0, 0.01) for x in points[item_id]]
            truth = sorted(points, key=lambda p: sum((a - b) ** 2 for a, b in zip(points[p], query, strict=True)))
            got = opened.query(query, 5)
            assert len(got) == 5, f"query(k=5) returned {len(got)} ids"
            hits_at_1 += got[0] == item_id
            recall_at_5 += len(set(got) & set(truth[:5])) / 5
        everything = opened.query(points["p0"], 1000)
    finally:
        opened.close()
    evidence("nearest neighbour found", f"{hits_at_1}/{len(probes)}")
    evidence("recall@5", round(recall_at_5 / len(probes), 3))
    assert hits_at_1 == len(probes), f"the stored vector was not its own nearest in {len(probes) - hits_at_1} queries"
    assert recall_at_5 / len(probes) >= 0.8, f"recall@5 {recall_at_5 / len(probes):.2f} is below 0.8"
    assert sorted(everything) == sorted(points), "query with k larger than the store does not return every id"


@per_store(at_rest=True)
def test_store_is_created_in_a_directory_that_already_exists(store: StoreCapability, store_dir: Path,
                                                             key_session: KeySession) -> None:
    """An installer or the companion itself prepares the data directory before the first open: an existing,
    empty directory is where a store is normally created, and it must work there like anywhere else."""
    store_dir.mkdir(mode=0o700, parents=True)
    workload = Workload()
    opened = open_store(store, key_session, store_dir)
    try:
        write(opened, workload, count=3, tag="a")
    finally:
        opened.close()
    lost = lost_on_reopen(store, key_session, store_dir, workload)
    assert not lost, f"data written to a store created in an existing directory does not read back: {lost[:3]}"
