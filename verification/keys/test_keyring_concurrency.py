"""Keyring commands run at once never lose an acknowledged write.

Each round (10 while developing, 20 in CI, 200 nightly) starts 2-8 real ``aico-secure keyring`` processes
together on one keyring (rotations of data keys, key-encryption keys and the master key, password changes,
reads, a ``create`` over it) plus, every other round, 2-3 ``create`` commands racing on an empty directory,
then checks that everything that exited 0 is in the final file:

* every data-key and key-encryption-key rotation that reported success is there (counted);
* successful password changes form one chain from the round's starting password (two successes from the same
  current password mean one overwrote the other), and the final password is the end of that chain;
* readers saw a complete keyring (exit 0, or 1 for a password already changed), never a torn one;
* of several ``create`` commands racing on an empty directory exactly one succeeds, and its password opens it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from aico_secure.keys import Keyring, KeyringBusyError, KeyringIOError, UnlockedKeyring
from aico_secure.keys.lock import keyring_lock

# Rounds follow the hypothesis profile: many in the nightly run, few while developing.
ROUNDS = {"dev": 10, "ci": 20, "nightly": 200}.get(os.environ.get("AICO_HYPOTHESIS_PROFILE", "dev"), 10)


@dataclass
class Command:
    args: list[str]
    password: str
    new: str | None = None
    proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AICO_SECURE_")}
        env["AICO_SECURE_PASSWORD"] = self.password
        if self.new is not None:
            env["AICO_SECURE_NEW_PASSWORD"] = self.new
        self.proc = subprocess.Popen([sys.executable, "-m", "aico_secure.cli.main", "keyring", *self.args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     text=True, env=env, cwd=Path(self.args[1]).parent)

    def finish(self) -> int:
        assert self.proc is not None
        _out, err = self.proc.communicate(timeout=120)
        assert "Traceback" not in err, err
        assert len(err.strip().splitlines()) <= 1, err
        return self.proc.returncode


def _state(path: Path) -> tuple[int, int]:
    doc = json.loads(path.read_text())
    return len(doc["deks"]["libsql"]), doc["keks"]["libsql"]


def _plan(rng: random.Random, directory: Path, current: str, round_no: int) -> list[Command]:
    known = [current]
    commands: list[Command] = []
    for i in range(rng.randint(2, 8)):
        kind = rng.choice(["dek", "dek", "kek", "master", "password", "password", "check", "info", "create"])
        password = rng.choice(known)
        if kind == "password":
            new = f"pw-{round_no}-{i}"
            commands.append(Command(["change-password", str(directory)], password, new))
            known.append(new)
        elif kind in ("dek", "kek", "master"):
            flag = {"dek": ["--dek", "libsql"], "kek": ["--kek", "libsql"], "master": ["--master"]}[kind]
            commands.append(Command(["rotate", str(directory), *flag], password))
        elif kind == "create":
            commands.append(Command(["create", str(directory), "--profile", "test"], password))
        else:
            commands.append(Command([kind, str(directory)], password))
    return commands


def test_concurrent_keyring_commands_never_lose_an_acknowledged_write(tmp_path: Path) -> None:
    rng = random.Random(20261130)
    directory = tmp_path / "shared"
    path = directory / "keyring.json"
    current = "pw-start"
    Keyring.create(path, current, profile="test", purposes=["libsql"])
    for round_no in range(ROUNDS):
        deks_before, kek_before = _state(path)
        commands = _plan(rng, directory, current, round_no)
        fresh = tmp_path / f"fresh-{round_no}"
        creators = [Command(["create", str(fresh), "--profile", "test"], f"creator-{round_no}-{i}")
                    for i in range(rng.randint(2, 3) if round_no % 2 == 0 else 0)]
        for command in commands + creators:
            command.start()
        codes = [c.finish() for c in commands]
        created = [c for c in creators if c.finish() == 0]

        chain: dict[str, str] = {}
        deks, keks = 0, 0
        for command, code in zip(commands, codes, strict=True):
            action = command.args[0]
            if action == "create":
                assert code == 2, "create over an existing keyring must be refused"
                continue
            if action == "info":
                assert code == 0, "a reader saw an incomplete keyring"
                continue
            assert code in (0, 1), f"{command.args}: exit {code}"
            if code == 0 and action == "change-password":
                assert command.password not in chain, "two password changes from one password both succeeded"
                assert command.new is not None
                chain[command.password] = command.new
            elif code == 0 and action == "rotate":
                deks += command.args[2] == "--dek"
                keks += command.args[2] == "--kek"
        while current in chain:
            current = chain.pop(current)
        assert not chain, "a successful password change is not part of the final keyring's history"
        keyring = Keyring.unlock(path, current)  # the password after the run is the last successful change's
        assert _state(path) == (deks_before + deks, kek_before + keks), "an acknowledged rotation was lost"
        assert len(keyring.key_ids("libsql")) == deks_before + deks

        if creators:
            assert len(created) == 1, f"{len(created)} of {len(creators)} racing creates succeeded"
            Keyring.unlock(Keyring.path_in(fresh), created[0].password)


def test_stale_unlocked_keyrings_apply_onto_the_newer_file(tmp_path: Path) -> None:
    """Two copies unlocked from the same file: each one's rotation lands on top of the other's."""
    path = tmp_path / "keyring.json"
    first = Keyring.create(path, "pw", profile="test", purposes=["libsql"])
    second = Keyring.unlock(path, "pw")
    second.rotate_dek("libsql")
    first.rotate_dek("libsql")
    first.rotate_kek("libsql")
    second.rotate_dek("libsql")
    final = Keyring.unlock(path, "pw")
    assert len(final.key_ids("libsql")) == 4 and _state(path) == (4, 2)
    assert final.key_ids("libsql") == second.key_ids("libsql")  # the last writer holds the file as it is


def test_threads_rotating_through_their_own_copies_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    Keyring.create(path, "pw", profile="test", purposes=["libsql"])
    copies = [Keyring.unlock(path, "pw") for _ in range(6)]
    errors: list[BaseException] = []

    def work(copy: UnlockedKeyring) -> None:
        try:
            for _ in range(3):
                copy.rotate_dek("libsql")
        except Exception as exc:  # noqa: BLE001 - any failure in a thread is reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(Keyring.unlock(path, "pw").key_ids("libsql")) == 1 + 6 * 3


# Holds the keyring lock until told to let go (a line on stdin): no sleep whose length a loaded machine could
# outlast, so the test's order of events is fixed by the test, not by timing.
HOLDER = """
import sys
from pathlib import Path
from aico_secure.keys.lock import keyring_lock
with keyring_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_held_lock_makes_writers_wait_readers_pass_and_times_out_typed(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    Keyring.create(path, "pw", profile="test", purposes=["libsql"])
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE,
                              stdin=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert holder.stdin is not None
        with pytest.raises(KeyringBusyError, match="being changed by another process"):
            with keyring_lock(path, timeout=0.2):
                pass
        reader = Command(["check", str(tmp_path)], "pw")
        writer = Command(["rotate", str(tmp_path), "--dek", "libsql"], "pw")
        reader.start()
        writer.start()
        assert reader.finish() == 0  # readers never wait for the lock: the holder still holds it
        assert writer.proc is not None and writer.proc.poll() is None, (
            "the writer finished while another process held the lock")
        assert _state(path) == (1, 1), "the keyring changed while another process held the lock"
        holder.stdin.write("release\n")
        holder.stdin.flush()
        assert holder.wait(timeout=30) == 0
        assert writer.finish() == 0  # the writer waited for the holder instead of failing or racing it
    finally:
        holder.kill()
        holder.wait()
    assert _state(path) == (2, 1)


def test_symlink_or_directory_planted_at_the_lock_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    keyring = Keyring.create(path, "pw", profile="test", purposes=["libsql"])
    before = path.read_bytes()
    victim = tmp_path / "victim"
    victim.write_bytes(b"must stay")
    lock = tmp_path / ".keyring.json.lock"
    for plant in ("symlink", "directory"):
        lock.unlink()
        if plant == "symlink":
            lock.symlink_to(victim)
        else:
            lock.mkdir()
        with pytest.raises(KeyringIOError, match="cannot lock"):
            keyring.rotate_dek("libsql")
        if plant == "directory":
            lock.rmdir()
            lock.touch()
    assert path.read_bytes() == before and victim.read_bytes() == b"must stay"
