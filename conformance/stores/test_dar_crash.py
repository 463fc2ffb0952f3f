"""AICO-DAR-007: a writer killed with SIGKILL at any point, during writes or key rotation, loses no committed record,
and everything opens with the current password afterwards.

A real subprocess (``crash_writer.py``) drives every store of the build through the contract and announces each
operation before and after it. The test kills it, in turn: shortly after every store was written to, just
after a rotation, compaction or password change began, and at a random moment. Then it unlocks with the
current password (if a password change was in flight, the old or the new one), reopens every store and checks
every acknowledged write and delete. The quick profile kills twice (writes, rotation); the full profile at
least 50 times (``AICO_CRASH_KILLS`` for more).
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aico_secure.conform.plugin import target_spec
from aico_secure.target import ContractError, KeysCapability, RecordStore, StoreCapability, Target, VectorStore

from ._support import ALL_STORES
from .crash_writer import document_for, value_for

WRITER = Path(__file__).with_name("crash_writer.py")
ROTATIONS = ("rotate_data_key", "compact", "rotate_master", "change_password")
MODES = ("writes", "rotation", "random")
READY_TIMEOUT = 120.0
TARGETED_TIMEOUT = 30.0


@dataclass
class Ledger:
    """What the parent knows was committed, across all cycles."""

    password: str
    records: dict[str, dict[str, bool]]  # store -> key -> present (True) or deleted (False)
    kills: Counter[str] = field(default_factory=Counter)  # op in flight when killed ("idle" between ops)
    committed_ops: int = 0
    verified: int = 0
    losses: list[str] = field(default_factory=list)


def _reader(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _run_cycle(spec: str, keys_dir: Path, stores_dir: Path, names: list[str], ledger: Ledger, cycle: int,
               rng: random.Random, mode: str) -> dict[str, Any] | None:
    """Start a writer, kill it, and apply what it acknowledged to the ledger; return the op in flight.

    ``mode``: "writes" kills within 50 ms after every store was written to; "rotation" just after a rotation,
    compaction or password change began; "random" at any moment up to 1.5 s after start."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), *sys.path]))
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), spec, str(keys_dir), str(stores_dir), str(cycle), str(rng.randrange(2**31)),
         *names], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(ledger.password + "\n")
    proc.stdin.close()
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    seen: list[dict[str, Any]] = []

    stderr = proc.stderr

    def take(timeout: float) -> dict[str, Any] | None:
        line = lines.get(timeout=timeout)
        if line is None:
            raise AssertionError(f"writer exited on its own (code {proc.wait()}): {stderr.read()[-2000:]}")
        message: dict[str, Any] = json.loads(line)
        seen.append(message)
        return message

    try:
        first = take(READY_TIMEOUT)
        assert first == {"ready": True}, f"writer did not start: {first}"
        seen.clear()
        deadline = time.monotonic() + (rng.uniform(0.02, 1.5) if mode == "random" else TARGETED_TIMEOUT)
        while time.monotonic() < deadline:
            try:
                message = take(max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if (mode == "rotation" and message and message.get("op") in ROTATIONS) or (
                    mode == "writes" and message and message.get("prologue")):
                time.sleep(rng.uniform(0.0, 0.05))
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    while (line := lines.get(timeout=10)) is not None:
        seen.append(json.loads(line))
    proc.stderr.close()

    pending: dict[str, Any] | None = None
    for message in seen:
        if "prologue" in message:
            continue
        if "begin" in message:
            pending = message
        elif "done" in message and pending is not None and message["done"] == pending["begin"]:
            _apply(ledger, pending)
            pending = None
    ledger.kills[pending["op"] if pending else "idle"] += 1
    return pending


def _apply(ledger: Ledger, op: dict[str, Any]) -> None:
    ledger.committed_ops += 1
    if op["op"] == "put":
        ledger.records[op["store"]][op["key"]] = True
    elif op["op"] == "delete":
        ledger.records[op["store"]][op["key"]] = False
    elif op["op"] == "change_password":
        ledger.password = f"{ledger.password[:40]}~{op['begin']}"


def _expected(store: RecordStore | VectorStore, key: str) -> bool:
    if isinstance(store, RecordStore):
        return store.get(key) == value_for(key)
    found = store.get(key)
    return found is not None and (found[0], dict(found[1])) == document_for(key)


def _verify(keys: KeysCapability, target: Target, keys_dir: Path, stores_dir: Path, names: list[str],
            ledger: Ledger, inflight: dict[str, Any] | None) -> None:
    candidates = [ledger.password]
    if inflight and inflight["op"] == "change_password":
        candidates.insert(0, f"{ledger.password[:40]}~{inflight['begin']}")
    session = None
    for candidate in candidates:
        try:
            session = keys.unlock(keys_dir, candidate)
        except ContractError:
            continue
        ledger.password = candidate
        break
    assert session is not None, "after the kill the keyring opens with neither the current nor the new password"
    try:
        for name in names:
            capability = target.stores[name]
            opened = capability.open(session, stores_dir / name)
            try:
                uncertain = inflight["key"] if inflight and inflight["store"] == name and "key" in inflight else None
                for key, present in ledger.records[name].items():
                    if key == uncertain:
                        continue
                    ledger.verified += 1
                    if present and not _expected(opened, key):
                        ledger.losses.append(f"{name}:{key}")
                    if not present and (opened.get(key) is not None):
                        ledger.losses.append(f"{name}:{key} (deleted, came back)")
                listed = set(opened.keys() if isinstance(opened, RecordStore) else opened.ids())
                live = {k for k, present in ledger.records[name].items() if present}
                phantoms = listed - live - ({uncertain} if uncertain else set())
                assert not phantoms, f"{name}: records nobody acknowledged appeared: {sorted(phantoms)[:5]}"
                if uncertain:  # settle the in-flight write either way, as the store now has it
                    if inflight and inflight["op"] == "put" and uncertain in listed:
                        assert _expected(opened, uncertain), f"{name}: the interrupted write reads back wrong"
                    ledger.records[name][uncertain] = uncertain in listed
            finally:
                opened.close()
    finally:
        session.close()


def _spec(request: pytest.FixtureRequest) -> str:
    spec = target_spec(request.config)
    assert spec, "the crash test needs the target spec to start its writer with"
    return spec


def _crash_loop(aico_target: Target, keys: KeysCapability, tmp_path: Path, password: str, fast_kdf: bool,
                spec: str, kills: int, evidence: Callable[[str, object], None]) -> None:
    names = [n for n in ALL_STORES if isinstance(aico_target.require(f"store:{n}"), StoreCapability)]
    keys_dir, stores_dir = tmp_path / "keys", tmp_path / "stores"
    keys.create(keys_dir, password, fast_kdf=fast_kdf).close()
    ledger = Ledger(password=password, records={n: {} for n in names})
    rng = random.Random()
    for cycle in range(kills):
        mode = MODES[cycle % len(MODES)]
        inflight = _run_cycle(spec, keys_dir, stores_dir, names, ledger, cycle, rng, mode)
        _verify(keys, aico_target, keys_dir, stores_dir, names, ledger, inflight)
    evidence("kills", sum(ledger.kills.values()))
    evidence("kills by operation in flight", dict(sorted(ledger.kills.items())))
    evidence("operations acknowledged", ledger.committed_ops)
    evidence("record checks", ledger.verified)
    evidence("losses", len(ledger.losses))
    assert sum(ledger.kills.values()) == kills
    assert ledger.committed_ops > 0, "the writer never completed an operation: nothing was tested"
    assert ledger.verified > 0, "no record was checked after a kill"
    assert not ledger.losses, f"committed records lost after kill -9: {ledger.losses[:10]}"


@pytest.mark.requirement("AICO-DAR-007")
def test_kill_during_writes_and_rotation_quick(aico_target: Target, keys: KeysCapability, tmp_path: Path,
                                              password: str, fast_kdf: bool, request: pytest.FixtureRequest,
                                              evidence: Callable[[str, object], None]) -> None:
    _crash_loop(aico_target, keys, tmp_path, password, fast_kdf, _spec(request), 2,
                evidence)


@pytest.mark.requirement("AICO-DAR-007")
@pytest.mark.aico_profile("full")
def test_kill_during_writes_and_rotation_full(aico_target: Target, keys: KeysCapability, tmp_path: Path,
                                             password: str, fast_kdf: bool, request: pytest.FixtureRequest,
                                             evidence: Callable[[str, object], None]) -> None:
    kills = max(50, int(os.environ.get("AICO_CRASH_KILLS", "50")))
    _crash_loop(aico_target, keys, tmp_path, password, fast_kdf, _spec(request), kills,
                evidence)
