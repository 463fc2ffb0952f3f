"""Helpers the data-at-rest tests share: workloads with canaries, read-back, leak searches, damage.

Everything here works through the target contract and on the bytes a build leaves in its store directory;
nothing knows how any particular build lays out its files.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import shutil
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aico_secure.conform.checks import snapshot
from aico_secure.inspector import inspect_tree
from aico_secure.inspector.encodings import text_forms
from aico_secure.target import IntegrityViolation, KeySession, RecordStore, StoreCapability, VectorStore

RECORD_STORES = ("libsql", "duckdb", "rocksdb")
VECTOR_STORES = ("chroma",)
ALL_STORES = RECORD_STORES + VECTOR_STORES
# The at-rest requirement of each store (DAR-005..008 apply to all of them).
AT_REST = {"libsql": "AICO-DAR-001", "chroma": "AICO-DAR-002", "duckdb": "AICO-DAR-003", "rocksdb": "AICO-DAR-004"}
DIMENSION = 32
SEARCHED_KINDS = ("canary", "vector")


def canary(tag: str) -> str:
    """A fresh, unmistakable marker: it cannot occur in any file by chance."""
    return f"cnry-{tag}-{secrets.token_hex(8)}"


def vector(seed: int | str) -> list[float]:
    """A deterministic embedding of ``DIMENSION`` components, none near zero (so it is distinctive on disk)."""
    rng = random.Random(str(seed))
    return [rng.choice((-1, 1)) * rng.uniform(0.2, 1.0) for _ in range(DIMENSION)]


@dataclass
class Workload:
    """What the suite wrote into one store, to read back and to search for."""

    records: dict[str, bytes] = field(default_factory=dict)
    items: dict[str, tuple[list[float], str, dict[str, str]]] = field(default_factory=dict)
    canaries: list[str] = field(default_factory=list)
    value_canaries: list[str] = field(default_factory=list)  # the ones inside values and documents
    vectors: list[list[float]] = field(default_factory=list)


def write(store: RecordStore | VectorStore, workload: Workload, *, count: int, tag: str) -> Workload:
    """Add ``count`` entries whose keys, values, documents, metadata and embeddings all carry canaries."""
    for i in range(count):
        key_canary, value_canary = canary(f"{tag}k{i}"), canary(f"{tag}v{i}")
        if isinstance(store, VectorStore):
            meta_canary = canary(f"{tag}m{i}")
            embedding = vector(f"{tag}-{i}-{secrets.token_hex(4)}")
            metadata = {"note": meta_canary, "lang": "en"}
            store.add(key_canary, embedding, f"document {value_canary} text", metadata)
            workload.items[key_canary] = (embedding, f"document {value_canary} text", metadata)
            workload.canaries += [key_canary, value_canary, meta_canary]
            workload.value_canaries.append(value_canary)
            workload.vectors.append(embedding)
        else:
            value = f"value {value_canary} ".encode() * 3 + bytes([i % 256]) * 40
            store.put(key_canary, value)
            workload.records[key_canary] = value
            workload.canaries += [key_canary, value_canary]
            workload.value_canaries.append(value_canary)
    return workload


def mismatches(store: RecordStore | VectorStore, workload: Workload) -> list[str]:
    """Entries that do not read back exactly as written (empty: everything is intact)."""
    wrong = []
    if isinstance(store, VectorStore):
        for item_id, (_embedding, document, metadata) in workload.items.items():
            got = store.get(item_id)
            if got is None or got[0] != document or dict(got[1]) != metadata:
                wrong.append(item_id)
        if sorted(store.ids()) != sorted(workload.items):
            wrong.append("<ids() differs>")
    else:
        for key, value in workload.records.items():
            if store.get(key) != value:
                wrong.append(key)
        if sorted(store.keys()) != sorted(workload.records):
            wrong.append("<keys() differs>")
    return wrong


def open_store(capability: StoreCapability, session: KeySession, directory: Path) -> RecordStore | VectorStore:
    store = capability.open(session, directory)
    expected = VectorStore if capability.kind == "vectors" else RecordStore
    assert isinstance(store, expected), f"{capability.name}.open() returned no {expected.__name__}"
    return store


def lost_on_reopen(capability: StoreCapability, session: KeySession, directory: Path,
                   workload: Workload) -> list[str]:
    """Open the store in ``directory`` afresh and list the entries that do not read back exactly; closes it."""
    reopened = open_store(capability, session, directory)
    try:
        return mismatches(reopened, workload)
    finally:
        reopened.close()


def float_forms(vectors: Iterable[list[float]]) -> list[tuple[str, bytes]]:
    """Exact little-endian float32 and float64 byte forms of each embedding (the inspector also searches with a
    tolerance; this is the minimum that must never be found)."""
    forms = []
    for v in vectors:
        forms.append(("float32-le", struct.pack(f"<{len(v)}f", *v)))
        forms.append(("float64-le", struct.pack(f"<{len(v)}d", *v)))
    return forms


@dataclass
class LeakReport:
    files: int
    bytes: int
    findings: list[str]
    containers: list[str]  # readable plaintext containers (a database file the inspector could parse)


def leaks(directory: Path, workload: Workload) -> LeakReport:
    """Canaries (every text encoding the inspector knows) and embeddings (float32/64, exact or close) found in
    any file under ``directory``. Other observations of the inspector are not this requirement's business."""
    result = inspect_tree(directory, canaries=workload.canaries, vectors=workload.vectors)
    found = [f"{f.path}@{f.offset}: {f.label} as {f.encoding}" for f in result.findings if f.kind in SEARCHED_KINDS]
    found += [f"{path}: unreadable" for path in result.unreadable]
    forms = float_forms(workload.vectors)
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and not p.is_symlink()):
        data = path.read_bytes()
        found += [f"{path}: embedding as {encoding}" for encoding, needle in forms if needle in data]
    containers = [f"{f.path}: {f.label} ({f.encoding})" for f in result.findings if f.kind == "container"]
    return LeakReport(result.files_read, result.bytes_read, found, containers)


def found_in_image(image: Mapping[str, bytes], texts: Iterable[str]) -> dict[str, list[str]]:
    """Which of ``texts`` appear (any text encoding) in which entries of a forensic image; searched in memory."""
    hits: dict[str, list[str]] = {}
    needles = [(text, form) for text in texts for _enc, form in text_forms(text)]
    for name, data in image.items():
        for text, form in needles:
            if form in data and name not in hits.get(text, []):
                hits.setdefault(text, []).append(name)
    return hits


def data_files(directory: Path) -> list[Path]:
    """Non-empty regular files under ``directory``, largest first."""
    files = [p for p in directory.rglob("*") if p.is_file() and not p.is_symlink() and p.stat().st_size > 0]
    return sorted(files, key=lambda p: (-p.stat().st_size, str(p)))


def digest(directory: Path) -> str:
    return hashlib.sha256(repr(sorted(snapshot(directory).items())).encode()).hexdigest()


def refused_or_exact(store: StoreCapability, session: KeySession, directory: Path, workload: Workload) -> str:
    """"refused" (``IntegrityViolation`` on open or on a read) or "intact"; data read back wrong fails the test."""
    try:
        opened = open_store(store, session, directory)
    except IntegrityViolation:
        return "refused"
    try:
        wrong, refused = read_back(opened, workload)
    finally:
        opened.close()
    assert not wrong, f"damaged data was read back silently wrong: {wrong[:3]}"
    return "refused" if refused else "intact"


def read_back(store: RecordStore | VectorStore, workload: Workload) -> tuple[list[str], int]:
    """Every entry, read one at a time: (entries read back wrong, entries refused). A refusal of one entry does
    not end the reading, so a store that refuses one damaged record and serves another one wrong is caught."""
    wrong: list[str] = []
    refused = 0
    vectors = isinstance(store, VectorStore)
    expected: dict[str, object] = (
        {item_id: (document, metadata) for item_id, (_e, document, metadata) in workload.items.items()}
        if vectors else dict(workload.records))
    for key, want in expected.items():
        try:
            got = store.get(key)
        except IntegrityViolation:
            refused += 1
            continue
        if vectors:
            shown = None if got is None else (got[0], dict(got[1]))  # type: ignore[arg-type]
            if shown != want:
                wrong.append(key)
        elif got != want:
            wrong.append(key)
    try:
        listed = store.ids() if isinstance(store, VectorStore) else store.keys()
    except IntegrityViolation:
        return wrong, refused + 1
    if sorted(listed) != sorted(expected):
        wrong.append("<ids() differs>" if isinstance(store, VectorStore) else "<keys() differs>")
    return wrong, refused


def damage_trial(store: StoreCapability, session: KeySession, pristine: Path, trial_dir: Path, relative: Path,
                 damage: Callable[[Path], None], workload: Workload, label: str) -> str:
    """Damage one file of a fresh copy of ``pristine`` (the pristine store is never opened again) and open it:
    "refused", and then with the file put back nothing is lost, or "intact", everything read back exactly."""
    shutil.copytree(pristine, trial_dir)
    target = trial_dir / relative
    original = target.read_bytes()
    damage(target)
    try:
        outcome = refused_or_exact(store, session, trial_dir, workload)
    except AssertionError as exc:
        raise AssertionError(f"{label} of {relative}: {exc}") from None
    if outcome == "refused":
        target.write_bytes(original)
        lost = lost_on_reopen(store, session, trial_dir, workload)
        assert not lost, f"after refusing {label} of {relative} data was lost: {lost[:3]}"
    shutil.rmtree(trial_dir)
    return outcome
