"""Every key-management property after every lifecycle event, in random order (Hypothesis stateful testing).

One machine drives the key hierarchy through the contract: create, seal, rotate a data key, a key-encryption
key or the master key, change the password, close, unlock with the right or a wrong password, and restart the
build (a fresh instance: nothing kept in memory survives). Each test checks ONE property after every step, so
a build with several defects gets one failure per defect. Checks that need an optional test hook
(``SealingKeyObservable``, ``WrappingKeyObservable``, ``KdfReport.salt_id``) run only when the build offers
it; the core of every property runs either way.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
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

from aico_secure.conform.checks import snapshot
from aico_secure.target import IntegrityViolation, KeysCapability, KeySession, RejectedCredentials, Target
from aico_secure.target.keys import SealingKeyObservable, WrappingKeyObservable

from ._lifecycle import machine_settings, offered, restarter, strong_passphrase, walk

PURPOSES = ("libsql", "chroma", "duckdb", "rocksdb", "audit", "transport")
purposes = st.sampled_from(PURPOSES)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Sealed:
    purpose: str
    record_key: bytes
    plaintext: bytes
    blob: bytes
    key_id: str | None  # what the sealing hook said at write time (None without the hook)
    newest_id: str  # data_key_ids(purpose)[-1] when it was sealed


@dataclass
class Event:
    """What the last step did, with what the property checks need from before it."""

    name: str
    purpose: str = ""
    ids_before: dict[str, list[str]] | None = None
    files_before: dict[str, str] | None = None
    derived_before: dict[str, bytes] | None = None


class KeyLifecycle(RuleBasedStateMachine):
    """The lifecycle; subclasses made by ``machine_for`` check one property in ``check``.

    Rotations and password changes are optional operations of a build. One it lacks (``NotImplementedError``) is
    an event that cannot happen, and the property is checked at every other event; only a property that is
    about the operation (``about``) reports "not implemented" when it is missing."""

    about: frozenset[str] = frozenset()  # optional operations this machine's property is about

    keys: KeysCapability
    base: Path
    fast_kdf: bool
    restart_build: Callable[[], Target]

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="km-life-", dir=self.base))
        self.directory = self.root / "keys"
        self.password = strong_passphrase()
        self.old_passwords: list[str] = []
        self.session: KeySession | None = None
        self.sealed: list[Sealed] = []
        self.ids: dict[str, list[str]] = {}  # expected data_key_ids per purpose, once used
        self.event = Event("create")
        self.derived: dict[str, bytes] = {}  # purpose keys of the current master epoch
        self.retired_purpose_keys: set[bytes] = set()  # purpose keys of earlier master epochs
        self.kek_rotated = False  # purpose keys may change once (a build may derive them through the KEK)
        self.salts: list[str] = []  # salt_id of each master epoch, when declared
        self.keks: dict[str, list[str]] = {}  # wrapping_key_id history per purpose, when offered
        self.superseded_keyrings: set[str] = set()  # keyring file digests from before a password change

    # ---- helpers -----------------------------------------------------------------------------------------
    def _offered(self, operation: str, call: Callable[[], None]) -> bool:
        return offered(operation, call, self.about)

    def _open(self) -> KeySession:
        assert self.session is not None
        return self.session

    def _salt_id(self) -> str | None:
        return self.keys.describe_kdf(self.directory).salt_id

    def _kek_id(self, purpose: str) -> str | None:
        session = self._open()
        return session.wrapping_key_id(purpose) if isinstance(session, WrappingKeyObservable) else None

    def _record_kek(self, purpose: str) -> None:
        kek = self._kek_id(purpose)
        if kek is not None:
            self.keks.setdefault(purpose, []).append(kek)

    def _new_master_epoch(self) -> None:
        self.retired_purpose_keys |= set(self.derived.values())
        self.derived = {}
        salt = self._salt_id()
        if salt is not None:
            self.salts.append(salt)
        for purpose in self.ids:
            self._record_kek(purpose)

    def _instances(self) -> list[tuple[str, KeysCapability]]:
        """The instance in use and a freshly restarted one: a refusal must not live only in memory."""
        fresh = self.restart_build().require("keys")
        assert isinstance(fresh, KeysCapability)
        return [("this instance", self.keys), ("after a restart", fresh)]

    # ---- lifecycle ---------------------------------------------------------------------------------------
    @initialize()
    def create(self) -> None:
        self.session = self.keys.create(self.directory, self.password, fast_kdf=self.fast_kdf)
        salt = self._salt_id()
        if salt is not None:
            self.salts.append(salt)

    @precondition(lambda self: self.session is not None)
    @rule(purpose=purposes, record_key=st.binary(min_size=1, max_size=16), plaintext=st.binary(max_size=64))
    def seal(self, purpose: str, record_key: bytes, plaintext: bytes) -> None:
        session = self._open()
        blob = session.seal(purpose, record_key, plaintext)
        first_use = purpose not in self.ids
        ids = session.data_key_ids(purpose)
        if first_use:
            self.ids[purpose] = list(ids)
            self._record_kek(purpose)
        key_id = session.sealing_key_id(purpose, blob) if isinstance(session, SealingKeyObservable) else None
        self.sealed.append(Sealed(purpose, record_key, plaintext, blob, key_id, ids[-1] if ids else ""))
        self.event = Event("seal", purpose)

    @precondition(lambda self: self.session is not None)
    @rule(purpose=purposes)
    def rotate_data_key(self, purpose: str) -> None:
        session = self._open()
        before = {p: session.data_key_ids(p) for p in self.ids}
        if not self._offered("rotate_data_key", partial(session.rotate_data_key, purpose)):
            return
        after = session.data_key_ids(purpose)
        if purpose not in self.ids:
            self._record_kek(purpose)
        self.ids[purpose] = list(after)
        self.event = Event("rotate_data_key", purpose, ids_before=before)

    @precondition(lambda self: self.session is not None)
    @rule(purpose=purposes)
    def rotate_kek(self, purpose: str) -> None:
        session = self._open()
        session.data_key_ids(purpose)  # make sure the purpose has keys, so there is something to re-wrap
        self.ids.setdefault(purpose, list(session.data_key_ids(purpose)))
        before = {p: session.data_key_ids(p) for p in self.ids}
        files = snapshot(self.directory)
        if not self.keks.get(purpose):
            self._record_kek(purpose)
        if not self._offered("rotate_kek", partial(session.rotate_kek, purpose)):
            return
        self._record_kek(purpose)
        self.kek_rotated = True
        self.event = Event("rotate_kek", purpose, ids_before=before, files_before=files)

    @precondition(lambda self: self.session is not None)
    @rule()
    def rotate_master(self) -> None:
        session = self._open()
        before = {p: session.data_key_ids(p) for p in self.ids}
        files = snapshot(self.directory)
        derived = {p: session.derive(p) for p in PURPOSES}
        if not self._offered("rotate_master", partial(session.rotate_master, self.password)):
            return
        self._new_master_epoch()
        self.event = Event("rotate_master", ids_before=before, files_before=files, derived_before=derived)

    @precondition(lambda self: self.session is not None)
    @rule()
    def change_password(self) -> None:
        session = self._open()
        before = {p: session.data_key_ids(p) for p in self.ids}
        files = snapshot(self.directory)
        superseded = {_digest(p) for p in self.keys.keyring_files(self.directory) if p.stat().st_size}
        derived = {p: session.derive(p) for p in PURPOSES}
        new = strong_passphrase()
        if not self._offered("change_password", partial(session.change_password, self.password, new)):
            return
        self.superseded_keyrings |= superseded
        self.old_passwords.append(self.password)
        self.password = new
        self._new_master_epoch()
        self.event = Event("change_password", ids_before=before, files_before=files, derived_before=derived)

    @precondition(lambda self: self.session is not None)
    @rule()
    def close(self) -> None:
        self._open().close()
        self.session = None
        self.event = Event("close")

    @precondition(lambda self: self.session is None)
    @rule()
    def unlock(self) -> None:
        self.session = self.keys.unlock(self.directory, self.password)
        self.event = Event("unlock")

    @rule(old=st.booleans())
    def failed_unlock(self, old: bool) -> None:
        """An attempt with a wrong password (a random one, or an old one when there is one). Whether it is
        refused is the wrong-password properties' business; here it is only an event the others must survive."""
        attempt = self.old_passwords[-1] if old and self.old_passwords else strong_passphrase()
        try:
            self.keys.unlock(self.directory, attempt).close()
        except (RejectedCredentials, IntegrityViolation):
            pass
        self.event = Event("failed_unlock")

    @rule()
    def restart(self) -> None:
        if self.session is not None:
            self.session.close()
        self.keys = self.restart_build().require("keys")  # type: ignore[assignment]
        self.session = self.keys.unlock(self.directory, self.password)
        self.event = Event("restart")

    def teardown(self) -> None:
        if self.session is not None:
            self.session.close()
        shutil.rmtree(self.root, ignore_errors=True)

    # ---- the one property this machine checks ------------------------------------------------------------
    @invariant()
    def property_holds(self) -> None:
        self.check()

    def check(self) -> None:
        raise NotImplementedError


# ---- the properties (each a subclass; one test each) ---------------------------------------------------------
class WrongPasswordRefused(KeyLifecycle):
    """KM-002: at every point a random wrong passphrase is refused and changes nothing on disk."""

    def check(self) -> None:
        before = snapshot(self.directory)
        for instance, keys in self._instances():
            with pytest.raises(RejectedCredentials):
                keys.unlock(self.directory, strong_passphrase()).close()
            assert snapshot(self.directory) == before, (
                f"a refused unlock ({instance}) after {self.event.name} changed the keyring")


class OldPasswordsRefused(KeyLifecycle):
    """KM-008: after a password change no earlier password opens the keyring, at any later point (after a
    restart too), and the current one always does."""

    about = frozenset({"change_password"})

    def check(self) -> None:
        for instance, keys in self._instances():
            for old in self.old_passwords:
                try:
                    keys.unlock(self.directory, old).close()
                except (RejectedCredentials, IntegrityViolation):
                    continue
                raise AssertionError(f"an earlier password unlocks the keyring ({instance}, after {self.event.name})")
            if self.session is None:
                keys.unlock(self.directory, self.password).close()


class NoOldPasswordCopy(KeyLifecycle):
    """KM-008: a password change leaves no copy of the keyring that an earlier password opens, anywhere under
    the test's directory (backups, temporary files, side files): each file there is tried as the keyring."""

    about = frozenset({"change_password"})

    def check(self) -> None:
        if not self.old_passwords:
            return
        current = [p.resolve() for p in self.keys.keyring_files(self.directory)]
        assert current, "the build names no keyring files"
        candidates = [p for p in self.root.rglob("*") if p.is_file() and not p.is_symlink()
                      and p.resolve() not in current and not p.is_relative_to(self.root / "probe")]
        for path in candidates:
            data = path.read_bytes()
            assert _digest(path) not in self.superseded_keyrings, (
                f"{path.relative_to(self.root)} is a byte-for-byte copy of the keyring from before a password change")
            for slot in current:
                probe = self.root / "probe"
                shutil.rmtree(probe, ignore_errors=True)
                shutil.copytree(self.directory, probe, ignore=shutil.ignore_patterns("*.lock"))
                (probe / slot.relative_to(self.directory.resolve())).write_bytes(data)
                for old in self.old_passwords:
                    try:
                        self.keys.unlock(probe, old).close()
                    except Exception:  # noqa: BLE001 - anything but success means "not an old copy"
                        continue
                    raise AssertionError(f"{path.relative_to(self.root)} opens with an earlier password: a copy of "
                                         "the keyring from before the password change was left behind")
        shutil.rmtree(self.root / "probe", ignore_errors=True)


class SealedDataOpens(KeyLifecycle):
    """KM-006/KM-007/KM-008: everything sealed before any step still opens to exactly its plaintext."""

    def check(self) -> None:
        if self.session is None:
            return
        for item in self.sealed:
            got = self.session.open(item.purpose, item.record_key, item.blob)
            assert got == item.plaintext, f"a {item.purpose} record sealed earlier opens wrong after {self.event.name}"


class PurposeKeysIndependent(KeyLifecycle):
    """KM-004: purpose keys differ from each other, are stable while the master key is, and a new master key
    (rotation, password change) gives new ones, never an earlier one."""

    def check(self) -> None:
        if self.session is None:
            return
        now = {p: self.session.derive(p) for p in PURPOSES}
        assert len(set(now.values())) == len(PURPOSES), f"two purposes share a key after {self.event.name}"
        stale = set(now.values()) & self.retired_purpose_keys
        assert not stale, f"after {self.event.name} a purpose key equals one from before a master change"
        if self.derived and now != self.derived:
            assert self.kek_rotated, f"purpose keys changed after {self.event.name} without a master change"
            assert not set(now.values()) & set(self.derived.values()), "only some purpose keys changed"
            self.retired_purpose_keys |= set(self.derived.values())
        self.kek_rotated = False
        self.derived = now


class MasterRotationChangesMaster(KeyLifecycle):
    """KM-006: a master rotation or password change really replaces the master key (new purpose keys, new key
    material, a new salt when the build declares it, every KEK replaced when the build shows them) and keeps
    every data key."""

    about = frozenset({"rotate_master"})

    def check(self) -> None:
        if self.event.name not in ("rotate_master", "change_password"):
            return
        session = self._open()
        assert {p: session.data_key_ids(p) for p in self.ids} == self.event.ids_before, (
            f"{self.event.name} replaced data keys instead of re-wrapping them")
        assert snapshot(self.directory) != self.event.files_before, f"{self.event.name} left the keyring unchanged"
        if len(self.salts) >= 2:
            assert self.salts[-1] not in self.salts[:-1], f"{self.event.name} kept an earlier salt"
        for purpose, history in self.keks.items():
            if len(history) >= 2:
                assert history[-1] not in history[:-1], f"{self.event.name} kept the {purpose} KEK"
        fresh = {p: session.derive(p) for p in PURPOSES}
        assert not set(fresh.values()) & set((self.event.derived_before or {}).values()), (
            f"{self.event.name} kept the master key: purpose keys are unchanged")


class KekRotationChangesKek(KeyLifecycle):
    """KM-006: ``rotate_kek(p)`` re-wraps p's data keys under a new KEK (the keyring changes on disk, and the
    KEK fingerprint changes when the build shows it) and keeps every data key of every purpose."""

    about = frozenset({"rotate_kek"})

    def check(self) -> None:
        if self.event.name != "rotate_kek":
            return
        session = self._open()
        assert {p: session.data_key_ids(p) for p in self.ids} == self.event.ids_before, (
            f"rotate_kek({self.event.purpose}) changed data keys")
        assert snapshot(self.directory) != self.event.files_before, (
            f"rotate_kek({self.event.purpose}) left the keyring on disk unchanged")
        history = self.keks.get(self.event.purpose, [])
        if len(history) >= 2:
            assert history[-1] not in history[:-1], f"rotate_kek({self.event.purpose}) kept the old KEK"


class NewWritesUseNewestKey(KeyLifecycle):
    """KM-007: a data-key rotation adds one new key, active last, and kept across restarts; with the sealing hook,
    every record is sealed under the newest key of its purpose at the time of writing."""

    about = frozenset({"rotate_data_key"})

    def check(self) -> None:
        if self.session is None:
            return
        for purpose, expected in self.ids.items():
            assert self.session.data_key_ids(purpose) == expected, (
                f"{purpose} data keys differ from what rotations left (after {self.event.name})")
        if self.event.name == "rotate_data_key" and self.event.ids_before is not None:
            before = self.event.ids_before.get(self.event.purpose)
            now = self.ids[self.event.purpose]
            if before:
                assert len(now) == len(before) + 1 and now[:-1] == before and now[-1] not in before, (
                    f"rotate_data_key({self.event.purpose}) did not add exactly one new active key")
        if self.sealed and self.event.name == "seal" and self.sealed[-1].key_id is not None:
            last = self.sealed[-1]
            assert last.key_id == last.newest_id, (
                f"a new {last.purpose} record was sealed with {last.key_id}, not the newest data key {last.newest_id}")


PROPERTIES: dict[str, tuple[type[KeyLifecycle], tuple[str, ...]]] = {
    "wrong-password-refused": (WrongPasswordRefused, ("AICO-KM-002",)),
    "old-passwords-refused": (OldPasswordsRefused, ("AICO-KM-008",)),
    "no-old-password-copy": (NoOldPasswordCopy, ("AICO-KM-008",)),
    "sealed-data-opens": (SealedDataOpens, ("AICO-KM-006", "AICO-KM-007")),
    "purpose-keys-independent": (PurposeKeysIndependent, ("AICO-KM-004",)),
    "master-rotation-changes-master": (MasterRotationChangesMaster, ("AICO-KM-006",)),
    "kek-rotation-changes-kek": (KekRotationChangesKek, ("AICO-KM-006",)),
    "new-writes-use-newest-key": (NewWritesUseNewestKey, ("AICO-KM-007",)),
}


@pytest.mark.parametrize("prop", [pytest.param(name, marks=pytest.mark.requirement(*ids), id=name)
                                  for name, (_cls, ids) in PROPERTIES.items()])
def test_key_property_holds_after_every_event(prop: str, keys: KeysCapability, tmp_path: Path, fast_kdf: bool,
                                              aico_profile: str, request: pytest.FixtureRequest) -> None:
    machine = type(f"{PROPERTIES[prop][0].__name__}Machine", (PROPERTIES[prop][0],),
                   {"keys": keys, "base": tmp_path, "fast_kdf": fast_kdf,
                    "restart_build": staticmethod(restarter(request.config))})
    walk_every_event(machine)
    run_state_machine_as_test(machine, settings=machine_settings(aico_profile))


def walk_every_event(machine: type[KeyLifecycle]) -> None:
    """Every kind of event at least once, for every purpose, in a fixed order, with the property checked after
    each step. The random sequences that follow look for orders nobody thought of; this walk makes sure no kind
    of event (a KEK rotation of one particular purpose, a seal right after a rotation) is left to chance when the
    profile runs only a few sequences."""
    m = machine()
    steps: list[Callable[[], None]] = []
    for purpose in PURPOSES:
        tag = purpose.encode()
        steps += [
            partial(m.seal, purpose, b"walk-first-" + tag, b"sealed before any rotation"),
            partial(m.rotate_data_key, purpose),
            partial(m.seal, purpose, b"walk-dek-" + tag, b"sealed after a data-key rotation"),
            partial(m.rotate_kek, purpose),
            partial(m.seal, purpose, b"walk-kek-" + tag, b"sealed after a KEK rotation"),
        ]
    steps += [
        m.rotate_master, lambda: m.seal("libsql", b"walk-master", b"sealed after a master rotation"),
        m.change_password, lambda: m.seal("audit", b"walk-password", b"sealed after a password change"),
        m.close, lambda: m.failed_unlock(True), lambda: m.failed_unlock(False), m.unlock,
        m.restart, lambda: m.seal("rocksdb", b"walk-restart", b"sealed after a restart"),
    ]
    walk(m, steps)
