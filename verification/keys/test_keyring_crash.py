"""A keyring writer killed with SIGKILL mid-rotation leaves the old or the new keyring, never a broken one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from aico_secure import envelope
from aico_secure.envelope import RecordContext
from aico_secure.errors import WrongPasswordError
from aico_secure.keys import Keyring

WRITER = textwrap.dedent("""
    import sys
    from aico_secure.keys import Keyring
    path, passwords = sys.argv[1], sys.argv[2:]
    keyring = Keyring.unlock(path, passwords[0])
    current = passwords[0]
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        nxt = passwords[i % len(passwords)]
        keyring.change_password(current, nxt)
        current = nxt
        keyring.rotate_dek("libsql")
        keyring.rotate_kek("libsql")
""")


def test_kill_minus_nine_during_rotation_never_breaks_the_keyring(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    passwords = ["alpha", "bravo", "charlie"]
    keyring = Keyring.create(path, passwords[0], profile="test", purposes=["libsql"])
    ctx = RecordContext("libsql", "c", b"k")
    sealed = envelope.seal(keyring.active_data_key("libsql"), b"committed record", ctx)
    rng = random.Random(1234)
    kills = 0
    for _ in range(20):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path), *passwords], stdout=subprocess.PIPE)
        assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        kills += 1
        opened = None
        for candidate in passwords:
            try:
                opened = Keyring.unlock(path, candidate)
                passwords.remove(candidate)
                passwords.insert(0, candidate)
                break
            except WrongPasswordError:
                continue
        assert opened is not None, "no password opens the keyring after a kill"
        assert envelope.open_with(lambda kid: opened.data_key("libsql", kid), sealed, ctx) == b"committed record"
        # the update lock's sidecar stays; the kernel released the dead writer's flock on it
        leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("keyring.json", ".keyring.json.lock")]
        for name in leftovers:  # a killed writer may leave its temp file; it must never be the keyring
            assert name.startswith(".keyring.json.tmp-")
            (tmp_path / name).unlink()
    assert kills == 20
