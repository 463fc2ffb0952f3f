"""The key-lifecycle leak scans of ``test_km_written_anywhere.py`` at crash points: the build killed (SIGKILL)
in the middle of each kind of rotation and of a password change.

An operation that stages keys in a temp file, a ``.staging`` copy or a journal and removes it only when it
completes leaves that file behind when the process dies first; an operation made of two writes leaves the
first alone. So a worker process (forked by ``crash_child.py``, which inherits the suite's ``$HOME``,
``$TMPDIR`` and ``XDG_*`` directories, where a build that follows the platform's conventions puts such files)
loops the operation and is killed at a random moment inside one of its first few. Then every file left
anywhere the suite watches (those directories and the keyring's) is:

* scanned for every key and password the worker used (AICO-KM-003): it sends them on its stdout pipe, never
  through a file, so reporting them cannot itself be the leak;
* checked owner-only (AICO-KM-010);
* after a kill mid password change (many kills: the window between two writes of one change is narrow), the
  keyring must unlock with exactly one password, the old or the new one, and no file left behind may open, in
  place of the keyring, with a password the one in force replaced (AICO-KM-008).

Each point is its own test, so a report lists every operation whose interruption leaks; and each property of
the password-change kills is its own test, on one shared run of kills.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from aico_secure.conform import writes
from aico_secure.conform.plugin import target_spec
from aico_secure.target import ContractError, IntegrityViolation, KeysCapability, RejectedCredentials, Target

from .test_km_written_anywhere import PURPOSES, Scenario, passphrase

CHILD = Path(__file__).with_name("crash_child.py")
CRASH_POINTS = ("rotate-data-key", "rotate-kek", "rotate-master", "change-password")
READY_TIMEOUT = 120.0
OP_TIMEOUT = 60.0
# The kill lands while the k-th operation (k drawn from 2..MAX_ROUNDS) runs, at a random moment within the time
# the completed ones took (the child announces an operation just before starting it and once it returned).
MAX_ROUNDS = 4
ATTEMPTS = 12  # a kill between two operations is retried; on a loaded machine some land there
KM008_KILLS = {"quick": 20, "full": 100, "release": 100}


@dataclass
class Crash:
    """What one killed child used and left: every key and password, the operation in flight at the kill."""

    run: Scenario
    begun: int = 0
    done: int = 0
    inflight: dict[str, Any] | None = None
    confirmed: list[str] = field(default_factory=list)  # passwords in force after each completed change
    durations: list[float] = field(default_factory=list)  # seconds each completed operation took, as seen
    began_at: float = 0.0


def _reader(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _absorb(crash: Crash, message: dict[str, Any]) -> None:
    if "keys" in message:
        known = set(crash.run.secrets.values())
        for name, value in message["keys"].items():
            raw = bytes.fromhex(value)
            if len(raw) >= 8 and raw not in known:
                crash.run.secrets[f"{name} (child)"] = raw
                known.add(raw)
    elif "begin" in message:
        crash.begun += 1
        crash.began_at = time.monotonic()
        crash.inflight = message
        if "password" in message:
            crash.run.passwords.append(message["password"])
    elif "done" in message:
        crash.done += 1
        crash.durations.append(time.monotonic() - crash.began_at)
        if crash.inflight and "password" in crash.inflight:
            crash.confirmed.append(crash.inflight["password"])
        crash.inflight = None


class Supervisor:
    """``crash_child.py`` running ``point``: it forks one worker per ``kill_one`` and the suite kills it."""

    def __init__(self, spec: str, point: str) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), *sys.path]))
        self.point = point
        self.proc = subprocess.Popen([sys.executable, str(CHILD), spec, point, *PURPOSES], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     start_new_session=True)  # its own group: close() can end a stray worker
        assert self.proc.stdout is not None
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_reader, args=(self.proc.stdout, self.lines), daemon=True).start()

    def _take(self, crash: Crash, timeout: float) -> dict[str, Any]:
        line = self.lines.get(timeout=timeout)
        if line is None:
            assert self.proc.stderr is not None
            raise AssertionError(f"the crash child exited (code {self.proc.wait()}): "
                                 f"{self.proc.stderr.read()[-1500:]}")
        message: dict[str, Any] = json.loads(line)
        if "not_offered" in message:  # a build without this operation: "not implemented" for this point alone
            raise NotImplementedError(message["not_offered"])
        assert "failed" not in message, f"the worker failed before it was killed: {message['failed']}"
        _absorb(crash, message)
        return message

    def kill_one(self, crash: Crash, password: str) -> None:
        """A worker on ``crash``'s keyring, killed at a random moment inside one of its first operations."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"directory": str(crash.run.directory), "password": password}) + "\n")
        self.proc.stdin.flush()
        pid = None
        try:
            while pid is None:
                pid = self._take(crash, READY_TIMEOUT).get("pid")
            rounds = crash.begun + random.randint(2, MAX_ROUNDS)  # one completed at least: the keyring was written
            while crash.begun < rounds or crash.inflight is None or not self.lines.empty():
                self._take(crash, OP_TIMEOUT)  # catch up: kill only on the newest line, an operation begun
            lasted = sorted(crash.durations)[len(crash.durations) // 2]
            time.sleep(max(0.0, crash.began_at + random.uniform(0.0, lasted) - time.monotonic()))
        finally:
            if pid is not None:
                # A worker that ended by itself (e.g. the build lacks the operation) is already gone; the check
                # of how it ended, below, still fails the test unless it was this kill.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        while "reaped" not in (message := self._take(crash, OP_TIMEOUT)):
            pass
        assert message["signal"] == signal.SIGKILL, f"the worker ended otherwise than by the kill: {message}"

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a worker never killed (the test failed first) keeps it waiting
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc.stderr.close()


@pytest.fixture
def supervisors(request: pytest.FixtureRequest) -> Iterator[Callable[[str], Supervisor]]:
    """``supervisors(point)``: a crash child for ``point``, stopped when the test ends."""
    spec = target_spec(request.config)
    assert spec, "no --aico-target: the crash scans cannot start the build in a child process"
    started: list[Supervisor] = []

    def start(point: str) -> Supervisor:
        started.append(Supervisor(spec, point))
        return started[-1]

    yield start
    for supervisor in started:
        supervisor.close()


def crashed(supervisor: Supervisor, keys: KeysCapability, root: Path, fast_kdf: bool,
            ) -> tuple[Crash, writes.Watch]:
    """A new keyring, a worker killed mid-operation on it, and everything written anywhere meanwhile."""
    directory = root / "keys"
    run = Scenario(directory)
    password = passphrase()
    run.passwords.append(password)
    session = keys.create(directory, password, fast_kdf=fast_kdf)
    try:
        run.use(session, "create")
        run.collect(session, "create")
    finally:
        session.close()
    crash = Crash(run)
    with writes.watch_writes(directory) as watch:
        try:
            for _attempt in range(ATTEMPTS):  # a kill that landed between two operations interrupted nothing
                supervisor.kill_one(crash, [password, *crash.confirmed][-1])
                if crash.inflight is not None:
                    break
        except BaseException:
            writes.discard(watch)
            raise
    assert not watch.errors, f"the write watch failed: {watch.errors[:3]}"
    assert crash.inflight is not None, f"no kill landed inside {supervisor.point} in {ATTEMPTS} attempts: " \
                                       "nothing was interrupted"
    return crash, watch


def unlock_after(crash: Crash, keys: KeysCapability) -> list[str]:
    """Which of the passwords the child knew open the keyring now (oldest first)."""
    opened = []
    for candidate in dict.fromkeys(crash.run.passwords):
        try:
            session = keys.unlock(crash.run.directory, candidate)
        except (RejectedCredentials, IntegrityViolation):
            continue
        try:
            crash.run.collect(session, "after the kill")
        finally:
            session.close()
        opened.append(candidate)
    return opened


@pytest.mark.requirement("AICO-KM-003")
@pytest.mark.parametrize("point", CRASH_POINTS)
def test_no_key_or_password_left_in_any_file_after_a_crash(point: str, keys: KeysCapability, tmp_path: Path,
                                                          fast_kdf: bool,
                                                          supervisors: Callable[[str], Supervisor],
                                                          evidence: Callable[[str, object], None]) -> None:
    crash, watch = crashed(supervisors(point), keys, tmp_path, fast_kdf)
    try:
        opened = unlock_after(crash, keys)  # the keys in force now join those the worker reported
        assert crash.run.secrets, "the build exposes no key material through secret_material(): nothing to look for"
        scan = writes.scan_written(watch, secrets=crash.run.secrets, canaries=crash.run.passwords)
        evidence("operations begun before the kill", crash.begun)
        evidence("keyring opens after the kill", bool(opened))
        evidence("files scanned", scan.result.files_read)
        assert scan.result.files_read > 0, "the child left no file written at all: nothing was checked"
        assert not scan.result.findings, f"after a kill mid {point}, key material or a password in a file: " + \
            "; ".join(scan.findings()[:6])
        assert not scan.result.unreadable, f"files left could not be read: {scan.result.unreadable[:4]}"
    finally:
        writes.discard(watch)


@pytest.mark.requirement("AICO-KM-010")
@pytest.mark.parametrize("point", CRASH_POINTS)
def test_every_file_left_after_a_crash_is_owner_only(point: str, keys: KeysCapability, tmp_path: Path,
                                                    fast_kdf: bool,
                                                    supervisors: Callable[[str], Supervisor]) -> None:
    _crash, watch = crashed(supervisors(point), keys, tmp_path, fast_kdf)
    try:
        assert watch.written(), "the child left no file written at all: nothing was checked"
        loose = writes.loose_modes(watch)
        assert not loose, f"after a kill mid {point}, readable by others: " + "; ".join(loose[:6])
    finally:
        writes.discard(watch)


def wrong_passwords_open(crash: Crash, opened: list[str]) -> str:
    """Why the passwords that open the keyring after the kill are wrong ("" if right): exactly one must, the last
    confirmed or the one in flight."""
    if len(opened) != 1:
        return f"{len(opened)} of the passwords used open the keyring (exactly one must)"
    current = [crash.run.passwords[0], *crash.confirmed][-1]
    allowed = {current} | ({crash.inflight["password"]} if crash.inflight else set())
    if opened[0] not in allowed:
        return "the keyring opens with a password that was replaced before the interrupted change"
    return ""


def stale_copies(crash: Crash, watch: writes.Watch, keys: KeysCapability, scratch: Path, opened: list[str],
                 ) -> list[str]:
    """Files left anywhere that open, in place of the keyring, with a password the one in force replaced (a copy
    made for the interrupted change may hold its new password: that one never replaced any). The one in force
    is the newest that opens now, or the last confirmed one if none does."""
    order = list(dict.fromkeys(crash.run.passwords))  # oldest first; the interrupted change's new one last
    in_force = max((order.index(p) for p in opened), default=order.index([order[0], *crash.confirmed][-1]))
    stale = order[:in_force]
    directory = crash.run.directory
    keyring = [p.resolve() for p in keys.keyring_files(directory)]
    assert keyring, "the build names no keyring files"
    found = []
    for index, candidate in enumerate(w for w in watch.written() if w.path.resolve() not in keyring):
        for slot, current_file in enumerate(keyring):
            probe = scratch / f"probe-{index}-{slot}"
            shutil.copytree(directory, probe)
            (probe / current_file.relative_to(directory.resolve())).write_bytes(candidate.readable_at.read_bytes())
            try:
                for old in stale:
                    try:
                        keys.unlock(probe, old).close()
                    except (RejectedCredentials, IntegrityViolation, ContractError):
                        continue
                    found.append(f"{candidate.path} ({candidate.where})")
                    break
            finally:
                shutil.rmtree(probe, ignore_errors=True)
    return found


@dataclass
class PasswordChangeCrashes:
    """What many kills mid password change, each on a new keyring, left: per kill, what was wrong."""

    kills: int
    completed: int = 0  # password changes completed before the kills
    wrong_opens: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def password_change_crashes(aico_target: Target, aico_profile: str, fast_kdf: bool,
                            tmp_path_factory: pytest.TempPathFactory,
                            request: pytest.FixtureRequest) -> Iterator[PasswordChangeCrashes]:
    """Several kills, each on a new keyring: a window between two writes of one change is narrow, and each
    kill lands at one random moment. Run once for the two properties checked on them."""
    keys = aico_target.require("keys")
    assert isinstance(keys, KeysCapability), "target.keys does not implement KeysCapability"
    spec = target_spec(request.config)
    assert spec, "no --aico-target: the crash scans cannot start the build in a child process"
    found = PasswordChangeCrashes(KM008_KILLS.get(aico_profile, KM008_KILLS["quick"]))
    supervisor = Supervisor(spec, "change-password")
    try:
        for cycle in range(found.kills):
            root = tmp_path_factory.mktemp(f"password-change-kill-{cycle}")
            crash, watch = crashed(supervisor, keys, root, fast_kdf)
            try:
                found.completed += crash.done
                opened = unlock_after(crash, keys)
                if problem := wrong_passwords_open(crash, opened):
                    found.wrong_opens.append(f"kill {cycle}: {problem}")
                found.stale += [f"kill {cycle}: {path}" for path in stale_copies(crash, watch, keys, root, opened)]
            finally:
                writes.discard(watch)
    finally:
        supervisor.close()
    yield found


@pytest.mark.requirement("AICO-KM-008")
def test_crash_mid_password_change_leaves_exactly_one_password(password_change_crashes: PasswordChangeCrashes,
                                                              evidence: Callable[[str, object], None]) -> None:
    evidence("kills mid password change", password_change_crashes.kills)
    evidence("password changes completed before the kills", password_change_crashes.completed)
    assert not password_change_crashes.wrong_opens, (
        "after a kill mid password change: " + "; ".join(password_change_crashes.wrong_opens[:4]))


@pytest.mark.requirement("AICO-KM-008")
def test_crash_mid_password_change_leaves_no_copy_for_a_replaced_password(
        password_change_crashes: PasswordChangeCrashes) -> None:
    assert not password_change_crashes.stale, (
        "left by a kill mid password change, opens with a password no longer in force in place of the keyring: "
        + "; ".join(password_change_crashes.stale[:4]))
