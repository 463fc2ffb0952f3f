"""The canary workload: drive a build's keys, stores, audit trail and logs with unique canaries, through the
target contract only, then tell the inspector exactly what must not be found.

Encryption verification from the outside: the workload writes text canaries (ASCII and non-ASCII prose, as
UTF-8, JSON, UTF-16 and inside a large compressible value), embedding canaries and secrets (the password, every
key the session holds, derived per-purpose keys) through every capability the build has, exercises the paths
that leave stale copies behind (overwrite, delete, compaction, key rotation, reopen), closes everything and
returns the needles. Anything the build routes through Python ``logging`` is captured into a log file in the
data directory, so a build that logs a key or a record is caught like one that stores it.

A capability the build lacks is listed in ``not_implemented``; callers treat that as "not implemented", never
as clean.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import random
import secrets
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aico_secure.audit.events import AuditEvent, AuditSink
from aico_secure.inspector.errors import WorkloadError
from aico_secure.sensitive import SecretBytes
from aico_secure.target import STORE_NAMES, ContractError, KeySession, RecordStore, Target, VectorStore
from aico_secure.target.audit import AuditCapability, AuditTrail
from aico_secure.target.keys import KeysCapability
from aico_secure.target.stores import StoreCapability

PURPOSES = ("libsql", "duckdb", "rocksdb", "chroma", "audit", "transport")
DIMENSIONS = 48
LOG_FILE = Path("logs") / "workload.log"


@dataclass
class WorkloadRun:
    """What the workload wrote and what must therefore be absent from every file of the directory."""

    directory: Path
    canaries: list[str] = field(default_factory=list)
    vectors: list[tuple[float, ...]] = field(default_factory=list)
    keys: list[tuple[str, SecretBytes]] = field(default_factory=list)
    driven: list[str] = field(default_factory=list)
    not_implemented: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_secret(self, name: str, value: bytes) -> None:
        if len(value) < 8 or any(value == s.reveal() for _n, s in self.keys):
            return
        taken = {n for n, _s in self.keys}
        unique, i = name, 1
        while unique in taken:
            i += 1
            unique = f"{name}#{i}"
        self.keys.append((unique, SecretBytes(value)))


@dataclass(frozen=True)
class _Canaries:
    plain: str
    prose: str
    record_key: str
    meta: str
    document: str
    audit: str

    @classmethod
    def fresh(cls) -> _Canaries:
        tag = secrets.token_hex(6)
        return cls(
            plain=f"aico-canary-{tag}-plain",
            prose=f"Dear diary {tag}: today I told my therapist about the Grüße ☃ at the \"old\" house",
            record_key=f"canary-rec-{tag}",
            meta=f"canary-meta-{tag}",
            document=f"canary document {tag}: the user wrote this note about her sister",
            audit=f"canary-audit-{tag}",
        )

    def all(self) -> list[str]:
        return [self.plain, self.prose, self.record_key, self.meta, self.document, self.audit]


def _vectors(count: int, seed: int) -> list[tuple[float, ...]]:
    rng = random.Random(seed)
    return [tuple(round(rng.uniform(0.05, 0.9) * rng.choice((-1, 1)), 6) for _ in range(DIMENSIONS))
            for _ in range(count)]


@contextlib.contextmanager
def _captured_logs(path: Path) -> Iterator[None]:
    """Everything logged through Python ``logging`` during the workload, at every level, into ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()


def _empty_directory(directory: Path) -> Path:
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise WorkloadError(f"{directory} is not an empty directory: the workload only writes into an empty one")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def run_workload(target: Target, directory: Path, *, fast_kdf: bool = True, seed: int | None = None) -> WorkloadRun:
    """Drive every capability of ``target`` into the empty ``directory`` and close everything.

    Raises ``CapabilityMissing`` when the build has no key management (nothing else can run without it) and
    ``WorkloadError`` when ``directory`` is not empty or the build breaks its contract on the way.
    """
    keys = target.require("keys")
    if not isinstance(keys, KeysCapability):
        raise WorkloadError("target.keys does not implement the KeysCapability contract")
    directory = _empty_directory(directory)
    canaries = _Canaries.fresh()
    run = WorkloadRun(directory, canaries=canaries.all(), vectors=_vectors(3, seed if seed is not None
                                                                           else secrets.randbits(32)))
    password = "pw-" + secrets.token_urlsafe(18)
    run.add_secret("password", password.encode())
    with _captured_logs(directory / LOG_FILE):
        run.driven.append("logs")
        session = keys.create(directory / "keys", password, fast_kdf=fast_kdf)
        try:
            _drive(target, session, password, canaries, run)
        finally:
            _collect_keys(session, run, "final")
            session.close()
    return run


def _drive(target: Target, session: KeySession, password: str, canaries: _Canaries, run: WorkloadRun) -> None:
    directory = run.directory
    _drive_keys(session, canaries, run)
    trail: AuditTrail | None = None
    if target.audit is None:
        run.not_implemented.append("audit")
    elif not isinstance(target.audit, AuditCapability):
        raise WorkloadError("target.audit does not implement the AuditCapability contract")
    else:
        trail = target.audit.open(session, directory / "audit")
        run.driven.append("audit")
    try:
        if trail is not None:
            _drive_audit(trail, canaries)
        names = list(STORE_NAMES) + sorted(set(target.stores) - set(STORE_NAMES))
        for name in names:
            capability = target.stores.get(name)
            if capability is None:
                run.not_implemented.append(f"store:{name}")
                continue
            _drive_store(name, capability, session, trail, canaries, run)
            run.driven.append(f"store:{name}")
        _collect_keys(session, run, "stores")
        if _optional(run, "KeySession.rotate_master", lambda: session.rotate_master(password)):
            _collect_keys(session, run, "rotated-master")
    finally:
        if trail is not None:
            trail.close()


def _optional(run: WorkloadRun, operation: str, call: Callable[[], None]) -> bool:
    """Run an optional operation of the contract. A build without it (``NotImplementedError``) has no stale copies
    from it to find: noted, and the workload goes on, so the build is still judged on everything else."""
    try:
        call()
    except NotImplementedError:
        run.notes.append(f"{operation} not offered by the build: its stale copies were not exercised")
        return False
    return True


def _collect_keys(session: KeySession, run: WorkloadRun, step: str) -> None:
    for name, value in session.secret_material().items():
        run.add_secret(name, value)
    for purpose in PURPOSES:
        try:
            run.add_secret(f"derived:{purpose}", session.derive(purpose))
        except ContractError as exc:
            run.notes.append(f"derive({purpose!r}) refused at {step}: {type(exc).__name__}")


def _drive_keys(session: KeySession, canaries: _Canaries, run: WorkloadRun) -> None:
    """Application-level sealing: sealed records land in a file, as an app would keep them."""
    sealed_dir = run.directory / "sealed"
    sealed_dir.mkdir()
    for purpose in ("libsql", "rocksdb"):
        record_key = canaries.record_key.encode()
        plaintext = f"{canaries.prose} | {canaries.plain}".encode()
        blob = session.seal(purpose, record_key, plaintext)
        if session.open(purpose, record_key, blob) != plaintext:
            raise WorkloadError(f"keys: open(seal(x)) != x for purpose {purpose!r}")
        (sealed_dir / f"{purpose}.bin").write_bytes(blob)
        _collect_keys(session, run, f"seal-{purpose}")
        if _optional(run, "KeySession.rotate_data_key", functools.partial(session.rotate_data_key, purpose)):
            _collect_keys(session, run, f"rotate-dek-{purpose}")
    if _optional(run, "KeySession.rotate_kek", lambda: session.rotate_kek("libsql")):
        _collect_keys(session, run, "rotate-kek")
    run.driven.append("keys")


def _drive_audit(trail: AuditTrail, canaries: _Canaries) -> None:
    events = [
        AuditEvent("data_access", "read", "workload", subject=canaries.audit, details={"note": canaries.audit}),
        AuditEvent("auth", "login", "127.0.0.1", result="failure", subject=canaries.audit),
        AuditEvent("consent", "grant", "workload", subject=canaries.audit, details={"category": canaries.meta}),
    ]
    for event in events:
        trail.record(event)
    if len(trail.events()) < len(events):
        raise WorkloadError("audit: events recorded by the workload are missing when read back")
    sealed = trail.session.seal("audit", canaries.record_key.encode(), canaries.prose.encode())  # audited crypto
    if trail.session.open("audit", canaries.record_key.encode(), sealed) != canaries.prose.encode():
        raise WorkloadError("audit: the audited key session does not round-trip a sealed record")


def _record_values(canaries: _Canaries, vectors: Sequence[Sequence[float]]) -> dict[str, bytes]:
    big = "\n".join(f"{i}: {canaries.plain} {canaries.prose}" for i in range(3000)).encode()
    return {
        "plain": canaries.plain.encode(),
        "json": json.dumps({"note": canaries.prose, "tags": [canaries.meta]}).encode(),
        "utf16": canaries.prose.encode("utf-16-le"),
        "big": big,
        "binary": os.urandom(64) + canaries.plain.encode() + os.urandom(64),
        "embedding": struct.pack(f"<{len(vectors[0])}f", *vectors[0]),
    }


def _drive_store(name: str, capability: StoreCapability, session: KeySession, audit: AuditSink | None,
                 canaries: _Canaries, run: WorkloadRun) -> None:
    where = run.directory / "stores" / name
    opened = capability.open(session, where, audit=audit)
    with _closing(opened):
        if isinstance(opened, VectorStore) and capability.kind == "vectors":
            _vector_round(name, opened, canaries, run)
        elif isinstance(opened, RecordStore):
            _record_round(name, opened, canaries, run)
        else:
            raise WorkloadError(f"store {name}: open() returned neither a RecordStore nor a VectorStore")
    reopened = capability.open(session, where, audit=audit)
    with _closing(reopened):
        if isinstance(reopened, VectorStore) and capability.kind == "vectors":
            ids = reopened.ids()
            if not ids or reopened.get(ids[0]) is None:
                raise WorkloadError(f"store {name}: items are gone after reopening")
        elif isinstance(reopened, RecordStore):
            present = reopened.keys()
            if not present or reopened.get(present[0]) is None:
                raise WorkloadError(f"store {name}: records are gone after reopening")


@contextlib.contextmanager
def _closing(store: RecordStore | VectorStore) -> Iterator[None]:
    try:
        yield
    finally:
        store.close()


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise WorkloadError(message)


def _record_round(name: str, store: RecordStore, canaries: _Canaries, run: WorkloadRun) -> None:
    values = _record_values(canaries, run.vectors)
    keys = {label: f"{canaries.record_key}-{name}-{label}" for label in values}
    for label, value in values.items():
        store.put(keys[label], value)
    for label, value in values.items():
        if store.get(keys[label]) != value:
            raise WorkloadError(f"store {name}: the {label} record reads back wrong")
    store.put(keys["plain"], f"{canaries.plain} v2".encode())  # the old value must not survive either
    store.delete(keys["json"])
    _optional(run, f"store {name}: compact", store.compact)
    _optional(run, f"store {name}: rotate_data_key", store.rotate_data_key)
    store.put(f"{canaries.record_key}-{name}-after-rotation", f"{canaries.meta} {canaries.prose}".encode())
    _check(store.get(keys["json"]) is None, f"store {name}: a deleted record is still returned")


def _vector_round(name: str, store: VectorStore, canaries: _Canaries, run: WorkloadRun) -> None:
    ids = [f"{canaries.record_key}-{name}-{i}" for i in range(len(run.vectors))]
    for i, (item_id, vector) in enumerate(zip(ids, run.vectors, strict=True)):
        store.add(item_id, list(vector), f"{canaries.document} #{i} {canaries.prose}",
                  {"topic": canaries.meta, "note": canaries.plain})
    nearest = store.query(list(run.vectors[0]), 1)
    _check(nearest[:1] == ids[:1], f"store {name}: the nearest neighbour of an item is not itself")
    got = store.get(ids[0])
    _check(got is not None and got[0].startswith(canaries.document),
           f"store {name}: a document reads back wrong")
    store.delete(ids[-1])
    _optional(run, f"store {name}: compact", store.compact)
    _optional(run, f"store {name}: rotate_data_key", store.rotate_data_key)
    store.add(f"{canaries.record_key}-{name}-after-rotation", list(run.vectors[1]), canaries.document,
              {"topic": canaries.meta})
