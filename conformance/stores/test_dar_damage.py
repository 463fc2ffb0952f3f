"""AICO-DAR-005: a wrong key, a flipped byte, a truncated file or another store's file gets ``IntegrityViolation``,
never another exception, silently wrong data, or lost data.

Damage is applied to the store's files one at a time (every file in the quick profile with one kind of damage
each, every file with every kind in the full profile). After each, the store is opened and everything read:
the outcome must be a refusal (``IntegrityViolation`` at open or on a read) or exactly the data written. After
a refusal the damaged file is put back and everything must read again: the refusal destroyed nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from aico_secure.conform.checks import snapshot
from aico_secure.conform.passphrases import passphrase
from aico_secure.target import IntegrityViolation, KeysCapability, KeySession, StoreCapability, Target

from ._support import ALL_STORES, Workload, damage_trial, data_files, mismatches, open_store, write
from .conftest import per_store

Damage = Callable[[Path, bytes], None]


def _flip_middle(path: Path, foreign: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _flip_spread(path: Path, foreign: bytes) -> None:
    """One bit flipped at each of 8 evenly spread offsets: at least one lands in data the engine must read."""
    data = bytearray(path.read_bytes())
    for i in range(8):
        data[((2 * i + 1) * len(data)) // 16] ^= 0x80
    path.write_bytes(bytes(data))


def _truncate(path: Path, foreign: bytes) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _foreign(path: Path, foreign: bytes) -> None:
    path.write_bytes(foreign)


DAMAGES: dict[str, Damage] = {"flip-spread": _flip_spread, "truncate-half": _truncate,
                              "other-store-file": _foreign, "flip-middle": _flip_middle}


def _other_store_file(aico_target: Target, store_name: str, session: KeySession, tmp_path: Path,
                      fast_kdf: bool) -> bytes:
    """The largest file of another store: another store of the same build written with the same session, or,
    for a build with one store, another instance of this store under a keyring of its own (a file copied from
    another profile or device)."""
    others = [n for n in ALL_STORES if n != store_name and n in aico_target.stores]
    name = others[0] if others else store_name
    if not others:
        keys = aico_target.require("keys")
        assert isinstance(keys, KeysCapability)
        session = keys.create(tmp_path / "other-keys", passphrase(), fast_kdf=fast_kdf)
    directory = tmp_path / f"other-{name}"
    try:
        opened = open_store(aico_target.stores[name], session, directory)
        try:
            write(opened, Workload(), count=4, tag="o")
        finally:
            opened.close()
    finally:
        if not others:
            session.close()
    return data_files(directory)[0].read_bytes()


@dataclass
class StrangerOpens:
    """A store opened with a keyring that never held its keys: first a fresh one, then one holding keys of its
    own store. What each attempt raised, and the store's files before and after."""

    workload: Workload
    outcomes: list[BaseException | None]
    before: dict[str, str]
    after: list[dict[str, str]]


@pytest.fixture
def stranger_opens(store: StoreCapability, store_dir: Path, tmp_path: Path, keys: KeysCapability,
                   key_session: KeySession, password: str, fast_kdf: bool) -> StrangerOpens:
    opened = open_store(store, key_session, store_dir)
    try:
        workload = write(opened, Workload(), count=6, tag="w")
    finally:
        opened.close()
    before = snapshot(store_dir)
    outcomes: list[BaseException | None] = []
    after: list[dict[str, str]] = []
    stranger = keys.create(tmp_path / "stranger-keys", password, fast_kdf=fast_kdf)
    try:
        for stage in ("fresh keyring", "keyring with keys of its own"):
            if stage == "keyring with keys of its own":
                open_store(store, stranger, tmp_path / "stranger-store").close()
            try:
                open_store(store, stranger, store_dir).close()
                outcomes.append(None)
            except Exception as exc:  # noqa: BLE001 - which refusal it was is its own test
                outcomes.append(exc)
            after.append(snapshot(store_dir))
    finally:
        stranger.close()
    return StrangerOpens(workload, outcomes, before, after)


@per_store("AICO-DAR-005")
def test_wrong_keyring_is_refused(stranger_opens: StrangerOpens) -> None:
    for stage, outcome in zip(("a fresh keyring", "a keyring with keys of its own"), stranger_opens.outcomes,
                              strict=True):
        assert isinstance(outcome, IntegrityViolation), (
            f"a store opened with {stage} that never held its keys was not refused with IntegrityViolation: "
            f"{outcome!r}")


@per_store("AICO-DAR-005")
def test_wrong_keyring_changes_nothing(stranger_opens: StrangerOpens) -> None:
    for after in stranger_opens.after:
        assert after == stranger_opens.before, "a refused open modified the store's files"


@per_store("AICO-DAR-005")
def test_store_reads_back_after_wrong_keyring_opens(store: StoreCapability, store_dir: Path, key_session: KeySession,
                                                    stranger_opens: StrangerOpens) -> None:
    reopened = open_store(store, key_session, store_dir)
    try:
        assert not mismatches(reopened, stranger_opens.workload), "data lost after refused opens"
    finally:
        reopened.close()


@per_store("AICO-DAR-005")
def test_damaged_files_are_refused_or_read_exactly(aico_target: Target, aico_profile: str, store: StoreCapability,
                                                   store_name: str, store_dir: Path, tmp_path: Path,
                                                   key_session: KeySession, fast_kdf: bool,
                                                   evidence: Callable[[str, object], None]) -> None:
    opened = open_store(store, key_session, store_dir)
    try:
        workload = write(opened, Workload(), count=12, tag="d")
    finally:
        opened.close()
    foreign = _other_store_file(aico_target, store_name, key_session, tmp_path, fast_kdf)
    files = [p.relative_to(store_dir) for p in data_files(store_dir)]
    kinds = list(DAMAGES)
    if aico_profile == "quick":  # the largest file gets every kind, the others a flip or a truncation
        trials = [(files[0], kind) for kind in kinds] + [(path, kinds[i % 2]) for i, path in enumerate(files[1:])]
    else:
        trials = [(path, kind) for path in files for kind in kinds]
    outcomes: dict[str, int] = {"refused": 0, "intact": 0}
    for number, (relative, kind) in enumerate(trials):
        outcome = damage_trial(store, key_session, store_dir, tmp_path / f"trial-{number}", relative,
                               lambda path, damage=DAMAGES[kind]: damage(path, foreign), workload, kind)
        outcomes[outcome] += 1
    evidence("files damaged", len(files))
    evidence("trials", len(trials))
    evidence("refused", outcomes["refused"])
    evidence("read intact", outcomes["intact"])
    assert outcomes["refused"] > 0, "no damage to any file was ever detected"
