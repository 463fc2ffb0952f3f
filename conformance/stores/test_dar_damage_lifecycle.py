"""AICO-DAR-005 at every point of a store's life: damaged files are refused with ``IntegrityViolation`` or read
back exactly, never silently wrong, whatever happened to the store before the damage.

A store can verify its files at one moment and not at another: while the instance that wrote them is alive (a
table of record digests it keeps), but not once a fresh instance opens them cold; for data sealed under the
first data key but not after a rotation; before a compaction rewrote the files but not after. So the property
is stated once (``damage_is_refused_or_read_exactly``) and checked on the files as they stand at each point:

* ``written``: create, writes and the first close (the instance that created the store opens them again);
* ``closed``: writes, close, reopen, more writes and overwrites, close;
* ``restart``: the same, then every trial opened by a fresh instance of the build (``restarter``: nothing the
  writer kept in memory survives) unlocked with the password: a cold open each time;
* ``rotated``: writes, close, reopen, ``rotate_data_key``, more writes and overwrites, close;
* ``compacted``: writes, deletes, close, reopen, ``compact``, more writes and overwrites, close.

Damage lands where the store put the data: each file's bytes are compared with a copy taken before the point's
last step (which overwrites records as well as adding some, so the bytes holding records change), and
single-bit flips go to offsets spread evenly over the bytes that step changed (over the whole file when it is
new). Every file also gets one flip spread over it or a truncation. The quick profile flips a few offsets in
the largest files, the full profile many more and every kind of damage on every file. Each trial damages a
fresh copy of the point's files; after a refusal the damaged file is put back and everything must read again.

The files of a store still open (a crash image) are not a point here: damage to a write-ahead log looks like
the torn tail of a crash to the engines, which drop it; what a crash leaves is AICO-DAR-007's subject.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from aico_secure.target import (
    KeysCapability,
    KeySession,
    RecordStore,
    StoreCapability,
    Target,
    VectorStore,
)

from ..keys._lifecycle import restarter, strong_passphrase
from ._support import Workload, damage_trial, data_files, mismatches, open_store, write
from .conftest import per_store

POINTS = ("written", "closed", "restart", "rotated", "compacted")
# Single-bit flips per file at offsets the point's last step changed, by profile.
FLIPS = {"quick": 4, "full": 16, "release": 16}
# How many of a store's files (largest first) are damaged, by profile.
MAX_FILES = {"quick": 6, "full": 32, "release": 32}


@dataclass
class Trial:
    """One damage to one file (``relative`` to the store directory), applied to a fresh copy of the image."""

    relative: Path
    label: str
    apply: Callable[[bytes], bytes]


Opener = Callable[[], tuple[StoreCapability, KeySession]]


@dataclass
class Image:
    """The store's files at a lifecycle point, what must read back from them, and who opens them: ``opener``
    gives the store and session of the build instance in force at the point (a fresh instance each time after
    a restart, so every trial is a cold open)."""

    directory: Path
    workload: Workload
    opener: Opener
    before: dict[Path, bytes] = field(default_factory=dict)  # file bytes before the point's last step


def _flip_at(offset: int, mask: int) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        damaged = bytearray(data)
        damaged[offset] ^= mask
        return bytes(damaged)

    return apply


def _flip_spread(data: bytes) -> bytes:
    damaged = bytearray(data)
    for i in range(8):
        damaged[((2 * i + 1) * len(damaged)) // 16] ^= 0x80
    return bytes(damaged)


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def changed_offsets(old: bytes | None, new: bytes) -> np.ndarray:
    """Offsets of ``new`` that differ from ``old`` (every offset when the file is new)."""
    fresh = np.frombuffer(new, dtype=np.uint8)
    if old is None:
        return np.arange(len(fresh))
    common = min(len(old), len(fresh))
    differs = np.flatnonzero(np.frombuffer(old, dtype=np.uint8)[:common] != fresh[:common])
    return np.concatenate([differs, np.arange(common, len(fresh))])


def plan(image: Image, profile: str) -> list[Trial]:
    """Bounded damage per file: ``FLIPS[profile]`` flips where the last step wrote, plus one whole-file kind."""
    trials: list[Trial] = []
    flips = FLIPS.get(profile, FLIPS["quick"])
    files = data_files(image.directory)[:MAX_FILES.get(profile, MAX_FILES["quick"])]
    for number, path in enumerate(files):
        relative = path.relative_to(image.directory)
        data = path.read_bytes()
        changed = changed_offsets(image.before.get(relative), data)
        if len(changed):
            picks = sorted({int(changed[((2 * i + 1) * len(changed)) // (2 * flips)]) for i in range(flips)})
            trials += [Trial(relative, f"bit flip at {o}", _flip_at(o, 0x01)) for o in picks]
        whole: list[tuple[str, Callable[[bytes], bytes]]] = [("flips spread over the file", _flip_spread),
                                                             ("truncation to half", _truncate)]
        trials += [Trial(relative, label, apply) for label, apply in
                   (whole if profile != "quick" else [whole[number % 2]])]
    return trials


def damage_is_refused_or_read_exactly(image: Image, trials: list[Trial], scratch: Path) -> dict[str, int]:
    """The property: each damage is refused (``IntegrityViolation``) or everything reads back exactly, and a
    refusal loses nothing once the damaged file is put back."""
    assert trials, "the store left no file to damage: nothing was checked"
    outcomes = {"refused": 0, "intact": 0}
    for number, trial in enumerate(trials):
        store, session = image.opener()
        outcome = damage_trial(store, session, image.directory, scratch / f"trial-{number}", trial.relative,
                               lambda path, apply=trial.apply: path.write_bytes(apply(path.read_bytes())),
                               image.workload, trial.label)
        outcomes[outcome] += 1
    return outcomes


def _contents(directory: Path) -> dict[Path, bytes]:
    return {p.relative_to(directory): p.read_bytes() for p in data_files(directory)}


def rewrite(store: RecordStore | VectorStore, workload: Workload, count: int) -> None:
    """Overwrite the first ``count`` records with new values of the same size: the bytes that change are the
    ones holding those records, wherever the engine keeps them."""
    if isinstance(store, VectorStore):
        for item_id in sorted(workload.items)[:count]:
            embedding, document, metadata = workload.items[item_id]
            document = document[::-1]
            store.add(item_id, embedding, document, metadata)
            workload.items[item_id] = (embedding, document, metadata)
    else:
        for key in sorted(workload.records)[:count]:
            value = workload.records[key][::-1]
            store.put(key, value)
            workload.records[key] = value


def reach(point: str, aico_target: Target, store_name: str, root: Path, fast_kdf: bool,
          restart: Callable[[], Target], sessions: list[KeySession]) -> Image:
    """Drive a new store up to ``point`` and return its files there (a copy nobody has open), checked to read
    back exactly before any damage."""
    keys = aico_target.require("keys")
    assert isinstance(keys, KeysCapability), "target.keys does not implement KeysCapability"
    store = aico_target.require(f"store:{store_name}")
    assert isinstance(store, StoreCapability)
    password, keydir, directory = strong_passphrase(), root / "keys", root / "store"
    session = keys.create(keydir, password, fast_kdf=fast_kdf)
    sessions.append(session)
    workload = Workload()
    image = Image(root / "image", workload, lambda: (store, session))
    opened = open_store(store, session, directory)
    try:
        if point == "written":
            write(opened, workload, count=12, tag="w")
            opened.close()
            shutil.copytree(directory, image.directory)
            return image
        write(opened, workload, count=8, tag="a")
        if point == "closed":
            opened.close()
            opened = open_store(store, session, directory)
        elif point == "compacted":
            for key in sorted(workload.records or workload.items)[:3]:
                opened.delete(key)
                workload.records.pop(key, None)
                workload.items.pop(key, None)
        opened.close()
        image.before = _contents(directory)
        opened = open_store(store, session, directory)
        if point == "rotated":
            opened.rotate_data_key()
        elif point == "compacted":
            opened.compact()
        write(opened, workload, count=4, tag="b")
        rewrite(opened, workload, 2)
    finally:
        opened.close()
    shutil.copytree(directory, image.directory)
    if point == "restart":
        def fresh_instance() -> tuple[StoreCapability, KeySession]:
            """Nothing the writer kept in memory: a new instance of the build, unlocked with the password."""
            fresh = restart()
            fresh_keys = fresh.require("keys")
            assert isinstance(fresh_keys, KeysCapability)
            fresh_session = fresh_keys.unlock(keydir, password)
            sessions.append(fresh_session)
            fresh_store = fresh.require(f"store:{store_name}")
            assert isinstance(fresh_store, StoreCapability)
            return fresh_store, fresh_session

        image.opener = fresh_instance
    return image


@per_store("AICO-DAR-005")
@pytest.mark.parametrize("point", POINTS)
def test_damage_at_every_point_is_refused_or_read_exactly(point: str, store_name: str, aico_target: Target,
                                                          aico_profile: str, tmp_path: Path, fast_kdf: bool,
                                                          request: pytest.FixtureRequest,
                                                          evidence: Callable[[str, object], None]) -> None:
    sessions: list[KeySession] = []
    try:
        image = reach(point, aico_target, store_name, tmp_path, fast_kdf, restarter(request.config), sessions)
        shutil.copytree(image.directory, tmp_path / "pristine")  # opening may write: the image stays as it was
        store, session = image.opener()
        pristine = open_store(store, session, tmp_path / "pristine")
        try:
            assert not mismatches(pristine, image.workload), f"the undamaged files at {point} read back wrong"
        finally:
            pristine.close()
        trials = plan(image, aico_profile)
        outcomes = damage_is_refused_or_read_exactly(image, trials, tmp_path / "trials")
        evidence("trials", len(trials))
        evidence("refused", outcomes["refused"])
        evidence("read intact", outcomes["intact"])
        assert outcomes["refused"] > 0, f"no damage to any file was ever detected at {point}"
    finally:
        for opened_session in reversed(sessions):
            opened_session.close()
