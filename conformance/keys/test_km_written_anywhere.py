"""Keys never land in any file, wherever the build writes it, at any point of a keyring's life (KM-003; the
passwords used or attempted count as keys here: the password is the only secret behind the master key), every
file written is owner-only (KM-010), and after a password change no copy anywhere opens with the old password
(KM-008).

The property is stated once and checked after each event that could break it: create, unlock, close, each
kind of rotation, password change, a failed unlock and a restart (a fresh instance of the build). Each point
is its own test, so a report lists every point where a build leaks; a point that needs a rotation the build
does not offer is "not implemented" for that point alone: the scans after create, unlock and close never
call a rotation. "Anywhere" is what ``aico_secure.conform.writes`` watches: every file Python code opens for
writing, every change under the suite's own ``$HOME``, ``$TMPDIR`` and ``XDG_*`` directories and under the
directory given to the build, and files removed after being written.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from aico_secure.conform import writes
from aico_secure.conform.passphrases import passphrase
from aico_secure.target import (
    ContractError,
    IntegrityViolation,
    KeysCapability,
    KeySession,
    RejectedCredentials,
)

PURPOSES = ("libsql", "duckdb", "rocksdb", "chroma", "audit", "transport")
POINTS = ("create", "unlock", "close", "restart", "failed-unlock", "rotate-data-key", "rotate-kek", "rotate-master",
          "change-password")


def near_miss(password: str) -> str:
    """A typo of ``password``: what a failed unlock usually is, so logging attempts leaks the password."""
    last = password[-1]
    return password[:-1] + ("?" if last != "?" else "!")


@dataclass
class Scenario:
    """What one run up to a lifecycle point used: sessions still open, every key seen, every password."""

    directory: Path
    sessions: list[KeySession] = field(default_factory=list)
    secrets: dict[str, bytes] = field(default_factory=dict)
    passwords: list[str] = field(default_factory=list)

    def collect(self, session: KeySession, step: str) -> None:
        known = set(self.secrets.values())
        found = dict(session.secret_material())
        for purpose in PURPOSES:
            try:
                found[f"derived:{purpose}"] = session.derive(purpose)
            except ContractError:
                pass  # a build may refuse a purpose; the others are still looked for
        for name, value in found.items():
            if len(value) >= 8 and value not in known:
                self.secrets[f"{name} ({step})"] = bytes(value)
                known.add(value)

    def use(self, session: KeySession, tag: str) -> None:
        """Seal and open a record for every purpose, so every data key exists and is in use."""
        for purpose in PURPOSES:
            blob = session.seal(purpose, f"{tag}:{purpose}".encode(), f"{tag} {purpose}".encode())
            assert session.open(purpose, f"{tag}:{purpose}".encode(), blob) == f"{tag} {purpose}".encode()

    def close_all(self) -> None:
        while self.sessions:
            self.sessions.pop().close()


def drive(point: str, keys: KeysCapability, directory: Path, fast_kdf: bool,
          fresh_keys: Callable[[], KeysCapability]) -> Scenario:
    """Take a new keyring in ``directory`` up to ``point``; sessions open at the point stay open."""
    run = Scenario(directory)
    password = passphrase()
    run.passwords.append(password)
    session = keys.create(directory, password, fast_kdf=fast_kdf)
    run.sessions.append(session)
    run.use(session, "create")
    run.collect(session, "create")
    if point == "create":
        return run
    if point in ("unlock", "close", "restart", "failed-unlock"):
        run.sessions.pop().close()
        if point == "failed-unlock":
            wrong = near_miss(password)
            run.passwords.append(wrong)
            with pytest.raises(RejectedCredentials):
                keys.unlock(directory, wrong).close()
            return run
        opener = fresh_keys() if point == "restart" else keys
        session = opener.unlock(directory, password)
        run.sessions.append(session)
        run.use(session, point)
        run.collect(session, point)
        if point in ("close", "restart"):
            run.sessions.pop().close()
        return run
    if point == "rotate-data-key":
        for purpose in PURPOSES:
            session.rotate_data_key(purpose)
    elif point == "rotate-kek":
        for purpose in PURPOSES:
            session.rotate_kek(purpose)
    elif point == "rotate-master":
        session.rotate_master(password)
    elif point == "change-password":
        new = passphrase()
        run.passwords.append(new)
        session.change_password(password, new)
    run.collect(session, point)
    run.use(session, point)
    return run


def watched(point: str, keys: KeysCapability, tmp_path: Path, fast_kdf: bool,
            fresh_keys: Callable[[], KeysCapability]) -> tuple[Scenario, writes.Watch]:
    directory = tmp_path / "keys"
    with writes.watch_writes(directory) as watch:
        try:
            run = drive(point, keys, directory, fast_kdf, fresh_keys)
        except BaseException:
            writes.discard(watch)
            raise
    assert not watch.errors, f"the write watch failed: {watch.errors[:3]}"
    return run, watch


@pytest.mark.requirement("AICO-KM-003")
@pytest.mark.parametrize("point", POINTS)
def test_no_key_or_password_in_any_file_written(point: str, keys: KeysCapability, tmp_path: Path, fast_kdf: bool,
                                                 fresh_keys: Callable[[], KeysCapability],
                                                 evidence: Callable[[str, object], None]) -> None:
    run, watch = watched(point, keys, tmp_path, fast_kdf, fresh_keys)
    try:
        assert run.secrets, "the build exposes no key material through secret_material(): nothing to look for"
        scan = writes.scan_written(watch, secrets=run.secrets, canaries=run.passwords)
        evidence("files scanned", scan.result.files_read)
        evidence("outside the given directory", sum(f.where != "given" for f in scan.files))
        assert scan.result.files_read > 0, "the build wrote no file at all: nothing was checked"
        assert not scan.result.findings, f"after {point}, key material or a password in a file: " + "; ".join(
            scan.findings()[:6])
        assert not scan.result.unreadable, f"files the build wrote could not be read: {scan.result.unreadable[:4]}"
    finally:
        run.close_all()
        writes.discard(watch)


@pytest.mark.requirement("AICO-KM-003")
@pytest.mark.parametrize("point", POINTS)
def test_nothing_written_outside_the_given_and_suite_directories(point: str, keys: KeysCapability, tmp_path: Path,
                                                                  fast_kdf: bool,
                                                                  fresh_keys: Callable[[], KeysCapability]) -> None:
    """What a build writes where the suite cannot read it back cannot be shown to hold no key."""
    run, watch = watched(point, keys, tmp_path, fast_kdf, fresh_keys)
    try:
        outside = watch.outside()
        assert not outside, f"after {point}, written outside the given directory and the suite's $HOME, $TMPDIR " \
                            f"and XDG directories: {[str(p) for p in outside[:6]]}"
    finally:
        run.close_all()
        writes.discard(watch)


@pytest.mark.requirement("AICO-KM-010")
@pytest.mark.parametrize("point", POINTS)
def test_every_file_written_is_owner_only(point: str, keys: KeysCapability, tmp_path: Path, fast_kdf: bool,
                                          fresh_keys: Callable[[], KeysCapability]) -> None:
    run, watch = watched(point, keys, tmp_path, fast_kdf, fresh_keys)
    try:
        assert watch.written(), "the build wrote no file at all: nothing was checked"
        loose = writes.loose_modes(watch)
        assert not loose, f"after {point}, readable by others: " + "; ".join(loose[:6])
    finally:
        run.close_all()
        writes.discard(watch)


@pytest.mark.requirement("AICO-KM-008")
def test_no_copy_written_anywhere_opens_with_the_old_password(keys: KeysCapability, tmp_path: Path,
                                                              fast_kdf: bool,
                                                              fresh_keys: Callable[[], KeysCapability]) -> None:
    """A backup, rollback copy or temp file of the keyring as it was before a password change would let the old
    password open everything: each file written, in place of each keyring file, must refuse the old one."""
    run, watch = watched("change-password", keys, tmp_path, fast_kdf, fresh_keys)
    try:
        run.close_all()
        old = run.passwords[0]
        keyring = [p.resolve() for p in keys.keyring_files(run.directory)]
        assert keyring, "the build names no keyring files"
        candidates = [w for w in watch.written() if w.kept is None and w.path.resolve() not in keyring]
        for index, candidate in enumerate(candidates):
            for slot, current in enumerate(keyring):
                probe = tmp_path / f"probe-{index}-{slot}"
                shutil.copytree(run.directory, probe)
                (probe / current.relative_to(run.directory.resolve())).write_bytes(
                    candidate.readable_at.read_bytes())
                try:
                    keys.unlock(probe, old).close()
                except (RejectedCredentials, IntegrityViolation):
                    continue
                finally:
                    shutil.rmtree(probe, ignore_errors=True)
                pytest.fail(f"{candidate.path} ({candidate.where}), written during a password change, opens "
                            "with the old password in place of the keyring")
    finally:
        run.close_all()
        writes.discard(watch)
