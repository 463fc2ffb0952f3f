"""Every store property after every lifecycle event, for every store, in random order (Hypothesis stateful).

One machine per store drives it through the contract: put (new keys and overwrites), delete, compact, the
store's own data-key rotation, master rotation and password change on the session, close and reopen, and a
restart (a fresh instance of the build unlocked with the current password: nothing kept in memory survives).
Each test checks ONE property after every step, so a store with several defects gets one failure per defect:

* acknowledged writes read back exactly, whatever happened since (AICO-DAR-008);
* deleted records stay deleted, through reopen, restart and compaction, and leave the files after compaction
  (AICO-DAR-006);
* no canary written into any key or value is readable in any file of the store (the store's at-rest ID);
* ``rotate_data_key`` moves new writes to a new data key, never back to an old one (AICO-DAR-008; needs the
  store's ``SealingKeyHook``, without which this one check is "not implemented").
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from aico_secure.conform.checks import find_leaks
from aico_secure.target import CapabilityMissing, KeySession, RecordStore, StoreCapability, Target, VectorStore
from aico_secure.target.stores import SealingKeyHook

from ..keys._lifecycle import STORE_STEPS, machine_settings, offered, restarter, strong_passphrase, walk
from ._support import ALL_STORES, AT_REST, canary, open_store, vector

slots = st.integers(min_value=0, max_value=5)  # few names, so overwrites and deletes of live records happen


class StoreLifecycle(RuleBasedStateMachine):
    """The lifecycle of one store; subclasses made by ``machine_for`` check one property in ``check``."""

    target: Target
    store_name: str
    base: Path
    fast_kdf: bool
    restart_build: Callable[[], Target]
    about: frozenset[str] = frozenset()  # optional operations this machine's property is about

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix=f"dar-life-{self.store_name}-", dir=self.base))
        self.keydir, self.directory = self.root / "keys", self.root / "store"
        self.password = strong_passphrase()
        self.capability: StoreCapability = self.target.stores[self.store_name]
        self.session: KeySession | None = None
        self.store: RecordStore | VectorStore | None = None
        self.names = [canary(f"n{i}") for i in range(6)]
        self.live: dict[str, tuple[bytes, str]] = {}  # name -> (value, canary inside it)
        self.deleted: dict[str, str] = {}  # name -> canary of its last value
        self.written_canaries: list[str] = []
        self.compacted_since_delete = False
        self.event = "create"
        self.epoch = 0  # rotations of the store's data key so far
        self.epoch_key: dict[int, str] = {}  # the sealing key id seen for writes in each epoch
        self.last_write: tuple[str, int] | None = None  # (name, epoch) of the last put
        self.written_in: dict[str, int] = {}  # name -> epoch of its last write

    # ---- helpers -----------------------------------------------------------------------------------------
    def _offered(self, operation: str, call: Callable[[], None]) -> bool:
        return offered(operation, call, self.about)

    def _store(self) -> RecordStore | VectorStore:
        assert self.store is not None
        return self.store

    def _write(self, name: str, value: bytes, mark: str) -> None:
        store = self._store()
        if isinstance(store, VectorStore):
            store.add(name, vector(name + mark), value.decode(), {"note": mark})
        else:
            store.put(name, value)

    def _read(self, name: str) -> bytes | None:
        store = self._store()
        if isinstance(store, VectorStore):
            got = store.get(name)
            return None if got is None else got[0].encode() + b"|" + got[1].get("note", "").encode()
        return store.get(name)

    def _expected(self, name: str) -> bytes:
        value, mark = self.live[name]
        return value + b"|" + mark.encode() if self.capability.kind == "vectors" else value

    def _listed(self) -> set[str]:
        store = self._store()
        return set(store.ids() if isinstance(store, VectorStore) else store.keys())

    def _open(self) -> None:
        assert self.session is not None
        self.store = open_store(self.capability, self.session, self.directory)

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    # ---- lifecycle ---------------------------------------------------------------------------------------
    @initialize()
    def create(self) -> None:
        keys = self.target.require("keys")
        self.session = keys.create(self.keydir, self.password, fast_kdf=self.fast_kdf)  # type: ignore[attr-defined]
        self._open()
        self.put(0, 16)  # a first record, so the key in use before the first rotation is known

    @precondition(lambda self: self.store is not None)
    @rule(slot=slots, size=st.integers(min_value=0, max_value=200))
    def put(self, slot: int, size: int) -> None:
        name, mark = self.names[slot], canary(f"v{slot}")
        value = f"value {mark} ".encode() + bytes([slot]) * size
        self._write(name, value, mark)
        self.live[name] = (value, mark)
        self.deleted.pop(name, None)
        self.written_canaries += [name, mark]
        self.last_write = (name, self.epoch)
        self.written_in[name] = self.epoch
        self.event = "put"

    @precondition(lambda self: self.store is not None and bool(self.live))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        self.delete_named(data.draw(st.sampled_from(sorted(self.live))))

    def delete_named(self, name: str) -> None:
        self._store().delete(name)
        self.deleted[name] = self.live.pop(name)[1]
        self.compacted_since_delete = False
        self.event = "delete"

    @precondition(lambda self: self.store is not None)
    @rule()
    def compact(self) -> None:
        if not self._offered("compact", self._store().compact):
            return
        self.compacted_since_delete = True
        self.event = "compact"

    @precondition(lambda self: self.store is not None)
    @rule()
    def rotate_data_key(self) -> None:
        store = self._store()
        if isinstance(store, SealingKeyHook):  # the key this epoch's writes used, before it is rotated away
            for name, epoch in self.written_in.items():
                if epoch == self.epoch and name in self.live and self.epoch not in self.epoch_key:
                    key_id = store.sealing_key_id(name)
                    if key_id is not None:
                        self.epoch_key[self.epoch] = key_id
        if not self._offered("rotate_data_key", store.rotate_data_key):
            return
        self.epoch += 1
        self.event = "rotate_data_key"

    @precondition(lambda self: self.session is not None)
    @rule()
    def rotate_master(self) -> None:
        assert self.session is not None
        if not self._offered("rotate_master", partial(self.session.rotate_master, self.password)):
            return
        self.event = "rotate_master"

    @precondition(lambda self: self.session is not None)
    @rule()
    def change_password(self) -> None:
        assert self.session is not None
        new = strong_passphrase()
        if not self._offered("change_password", partial(self.session.change_password, self.password, new)):
            return
        self.password = new
        self.event = "change_password"

    @precondition(lambda self: self.store is not None)
    @rule()
    def reopen(self) -> None:
        self._close_store()
        self._open()
        self.event = "reopen"

    @rule()
    def restart(self) -> None:
        self._close_store()
        if self.session is not None:
            self.session.close()
        self.target = self.restart_build()
        self.capability = self.target.require(f"store:{self.store_name}")  # type: ignore[assignment]
        keys = self.target.require("keys")
        self.session = keys.unlock(self.keydir, self.password)  # type: ignore[attr-defined]
        self._open()
        self.event = "restart"

    def teardown(self) -> None:
        self._close_store()
        if self.session is not None:
            self.session.close()
        shutil.rmtree(self.root, ignore_errors=True)

    @invariant()
    def property_holds(self) -> None:
        if self.store is not None:
            self.check()

    def check(self) -> None:
        raise NotImplementedError


class WritesReadBack(StoreLifecycle):
    """Every acknowledged write reads back exactly, and the store lists exactly the live records."""

    def check(self) -> None:
        for name in self.live:
            assert self._read(name) == self._expected(name), f"a record reads back wrong after {self.event}"
        assert self._listed() == set(self.live), f"the store lists other records than were written ({self.event})"


class DeletedStaysDeleted(StoreLifecycle):
    """Deleted records are absent from reads and listings at every later point, and after compaction their
    canaries are in no file of the store."""

    about = frozenset({"compact"})

    def check(self) -> None:
        listed = self._listed()
        for name in self.deleted:
            assert self._read(name) is None, f"a deleted record is readable again after {self.event}"
            assert name not in listed, f"a deleted record is listed again after {self.event}"
        if self.deleted and self.compacted_since_delete and self.event == "compact":
            result = find_leaks(self.directory, canaries=list(self.deleted) + list(self.deleted.values()))
            found = [f"{f.path}: {f.label}" for f in result.findings if f.kind == "canary"]
            assert not found, f"deleted records still in the files after compaction: {found[:3]}"


class NoCanaryAtRest(StoreLifecycle):
    """No key or value canary ever written is readable in any file of the store, after any step."""

    def check(self) -> None:
        if not self.written_canaries:
            return
        result = find_leaks(self.directory, canaries=self.written_canaries)
        found = [f"{f.path}: {f.label} as {f.encoding}" for f in result.findings if f.kind == "canary"]
        assert not found, f"plaintext at rest after {self.event}: {found[:3]}"


class RotationMovesNewWrites(StoreLifecycle):
    """After each ``rotate_data_key`` new writes are sealed under a key no earlier write used; between rotations
    every write uses one key (the newest), whether or not the store was reopened or the build restarted. After
    every event that could change the key (rotation, master change, reopen, restart) a record is written and
    its key checked."""

    about = frozenset({"rotate_data_key"})

    def check(self) -> None:
        store = self._store()
        if not isinstance(store, SealingKeyHook):
            raise CapabilityMissing(f"store {self.store_name!r} offers no sealing_key_id() test hook")
        if self.event in ("delete", "compact"):
            return  # neither changes which key new writes get; the next put or event is checked
        if self.event != "put":
            self.put(5, 8)  # a write right after this event: which key does it get?
        if self.last_write is None:
            return
        name, epoch = self.last_write
        key_id = store.sealing_key_id(name)
        assert key_id is not None, "sealing_key_id() says a record just written is absent"
        earlier = {k for e, k in self.epoch_key.items() if e < epoch}
        assert key_id not in earlier, (
            f"a write after {epoch} rotation(s) was sealed with a data key used before the last rotation")
        known = self.epoch_key.setdefault(epoch, key_id)
        assert key_id == known, "two writes between the same rotations were sealed with different data keys"


PROPERTIES: dict[str, type[StoreLifecycle]] = {
    "writes-read-back": WritesReadBack,
    "deleted-stays-deleted": DeletedStaysDeleted,
    "no-canary-at-rest": NoCanaryAtRest,
    "rotation-moves-new-writes": RotationMovesNewWrites,
}


def _requirements(prop: str, store: str) -> tuple[str, ...]:
    return {"writes-read-back": ("AICO-DAR-008",), "deleted-stays-deleted": ("AICO-DAR-006",),
            "no-canary-at-rest": (AT_REST[store],), "rotation-moves-new-writes": ("AICO-DAR-008",)}[prop]


@pytest.mark.parametrize("store_name,prop", [
    pytest.param(store, prop, marks=pytest.mark.requirement(*_requirements(prop, store)), id=f"{store}-{prop}")
    for store in ALL_STORES for prop in PROPERTIES])
def test_store_property_holds_after_every_event(store_name: str, prop: str, aico_target: Target, tmp_path: Path,
                                                fast_kdf: bool, aico_profile: str,
                                                request: pytest.FixtureRequest) -> None:
    aico_target.require(f"store:{store_name}")
    aico_target.require("keys")
    machine = type(f"{PROPERTIES[prop].__name__}Machine", (PROPERTIES[prop],),
                   {"target": aico_target, "store_name": store_name, "base": tmp_path, "fast_kdf": fast_kdf,
                    "restart_build": staticmethod(restarter(request.config))})
    walk_every_event(machine)
    run_state_machine_as_test(machine, settings=machine_settings(aico_profile, STORE_STEPS))


def walk_every_event(machine: type[StoreLifecycle]) -> None:
    """Every kind of event at least once, in a fixed order, with the property checked after each step, before
    the random sequences: no kind of event (a write right after a rotation, a delete then a restart) is left to
    chance when the profile runs only a few sequences."""
    m = machine()

    def delete_oldest() -> None:
        m.delete_named(sorted(m.live)[0])

    steps: list[Callable[[], None]] = [
        lambda: m.put(0, 16), lambda: m.put(1, 120), m.rotate_data_key, lambda: m.put(2, 16),
        delete_oldest, m.compact, m.rotate_master, lambda: m.put(3, 16), m.change_password, lambda: m.put(0, 40),
        m.reopen, lambda: m.put(1, 8), delete_oldest, m.restart, lambda: m.put(2, 64), m.compact,
    ]
    walk(m, steps)
