"""Hostile keyring paths and contents: one line and exit 2, never a hang, a traceback or a changed file.

Covers what sits at the keyring path (FIFO, socket, device, directory), operating-system refusals (read-only
filesystem, disk full, file-size limit, permission denied, a regular file named as the directory), hostile
JSON (deep nesting, integers longer than Python converts, non-UTF-8 bytes) and non-UTF-8 directory names.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.errors import KeyringError
from aico_secure.keys import Keyring, KeyringIOError
from verification.unprivileged import without_read_through

PASSWORD = "hostile-password-1"
HANG_SECONDS = 20  # far above a refusal's cost; a blocked open would run into it


def cli(*args: str | bytes, password: str | bytes | None = PASSWORD, cwd: Path | None = None,
        preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {os.fsencode(k): os.fsencode(v) for k, v in os.environ.items() if not k.startswith("AICO_SECURE_")}
    if password is not None:
        env[b"AICO_SECURE_PASSWORD"] = os.fsencode(password)
    env[b"AICO_SECURE_NEW_PASSWORD"] = b"hostile-new-password"
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "keyring", *args], capture_output=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=HANG_SECONDS, cwd=cwd or tempfile.gettempdir(),
                          preexec_fn=preexec)


def assert_one_line(proc: subprocess.CompletedProcess[bytes], code: int = 2, *words: str) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == code, err
    assert b"Traceback" not in proc.stderr
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aico-secure keyring:"), err
    assert all(w in lines[0] for w in words), lines[0]
    assert PASSWORD not in err
    return lines[0]


@pytest.fixture
def keydir(tmp_path: Path) -> Path:
    Keyring.create(tmp_path / "k" / "keyring.json", PASSWORD, profile="test", purposes=["libsql"])
    return tmp_path / "k"


ACTIONS = (["info"], ["check"], ["rotate", "--dek", "libsql"], ["change-password"], ["create", "--profile", "test"])


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a[0])
def test_fifo_at_the_keyring_path_is_refused_without_blocking(tmp_path: Path, action: list[str]) -> None:
    os.mkfifo(tmp_path / "keyring.json")
    proc = cli(action[0], str(tmp_path), *action[1:])
    assert_one_line(proc, 2)
    assert (tmp_path / "keyring.json").is_fifo()


@pytest.mark.parametrize("plant", ["socket", "device", "directory"])
def test_non_regular_files_at_the_keyring_path_are_refused(tmp_path: Path, plant: str) -> None:
    path = tmp_path / "keyring.json"
    held = None
    if plant == "socket":
        held = socket.socket(socket.AF_UNIX)
        held.bind(str(path))
    elif plant == "device":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    try:
        for action in ACTIONS[:3]:
            assert_one_line(cli(action[0], str(tmp_path), *action[1:]), 2)
    finally:
        if held is not None:
            held.close()


def test_deep_json_nesting_huge_integers_and_bad_bytes_are_typed(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    cases = {
        "nesting": b"[" * 200_000 + b"]" * 200_000,
        "object nesting": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "huge integer": b'{"format": "aico-secure-keyring", "format_version": 1' + b"0" * 6000 + b"}",
        "huge version": json.dumps({"format": "aico-secure-keyring", "format_version": 10**4000}).encode(),
        "not utf-8": b'{"format": "\xff\xfe"}',
    }
    for name, content in cases.items():
        path.write_bytes(content)
        with pytest.raises(KeyringError) as caught:  # typed in the library, never RecursionError or ValueError
            Keyring.unlock(path, PASSWORD)
        assert len(str(caught.value)) < 400, name
        proc = cli("check", str(tmp_path))
        assert_one_line(proc, 2)
        assert path.read_bytes() == content, name


def test_a_regular_file_given_as_the_directory(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"data")
    for action in ACTIONS:
        assert_one_line(cli(action[0], str(not_a_dir), *action[1:]), 2)
    assert not_a_dir.read_bytes() == b"data"


def test_file_size_limit_leaves_the_keyring_and_no_temp_file(keydir: Path) -> None:
    before = (keydir / "keyring.json").read_bytes()
    limit = len(before) // 2

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    for action in (["rotate", "--dek", "libsql"], ["change-password"], ["rotate", "--master"]):
        line = assert_one_line(cli(action[0], str(keydir), *action[1:], preexec=small_files), 2)
        assert "File too large" in line and "unchanged" in line
    assert (keydir / "keyring.json").read_bytes() == before
    assert sorted(p.name for p in keydir.iterdir()) == [".keyring.json.lock", "keyring.json"]
    keyring = Keyring.unlock(keydir / "keyring.json", PASSWORD)  # the library says the same, typed
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        with pytest.raises(KeyringIOError, match="File too large"):
            keyring.rotate_dek("libsql")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert (keydir / "keyring.json").read_bytes() == before
    assert len(keyring.key_ids("libsql")) == 1, "the failed rotation is not half-applied in memory"


def test_permission_denied(tmp_path: Path) -> None:
    """A keyring its process cannot read (as root: without the capabilities that read through mode bits)."""
    keydir = tmp_path / "k"
    Keyring.create(keydir / "keyring.json", PASSWORD, profile="test")
    path = keydir / "keyring.json"
    path.chmod(0o000)
    before = path.read_bytes()
    for action in ACTIONS[:4]:
        line = assert_one_line(cli(action[0], str(keydir), *action[1:], preexec=without_read_through()), 2)
        assert "ermission denied" in line, line
    assert path.read_bytes() == before


NAMESPACE_SCRIPT = textwrap.dedent("""
    import hashlib, os, subprocess, sys
    from pathlib import Path
    scenario, mount = sys.argv[1], Path(sys.argv[2])
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], check=True)
    env = {**os.environ, "AICO_SECURE_PASSWORD": "pw-ns", "AICO_SECURE_NEW_PASSWORD": "pw-ns-new"}
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "keyring", *args], env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, cwd="/")
    assert cli("create", str(mount / "k"), "--profile", "test").returncode == 0
    assert cli("rotate", str(mount / "k"), "--dek", "libsql").returncode == 0
    keyring = mount / "k" / "keyring.json"
    before = keyring.read_bytes()
    if scenario == "enospc":
        try:
            with open(mount / "filler", "wb") as fh:
                while True:
                    fh.write(b"\\0" * 4096)
                    fh.flush()
        except OSError:
            pass
    else:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    results = []
    for action in (["rotate", "--dek", "libsql"], ["change-password"], ["rotate", "--master"],
                   ["create", "--profile", "test"]):
        target = mount / ("k2" if action[0] == "create" else "k")
        proc = cli(action[0], str(target), *action[1:])
        results.append((proc.returncode, proc.stderr))
    results.append((0 if keyring.read_bytes() == before else 99, "keyring changed"))
    leftovers = sorted(p.name for p in (mount / "k").iterdir())
    results.append((0 if leftovers == [".keyring.json.lock", "keyring.json"] else 98, repr(leftovers)))
    for code, err in results:
        print(code, err.strip().replace("\\n", "|"))
""")


@pytest.mark.parametrize("scenario, words", [("enospc", "No space left"), ("erofs", "Read-only file system")])
def test_full_disk_and_read_only_filesystem(tmp_path: Path, scenario: str, words: str) -> None:
    """A private tmpfs in a user+mount namespace: filled up, or remounted read-only."""
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare or "unshare", "--user", "--map-root-user", "--mount", "true"],
                           capture_output=True) if unshare else None
    if probe is None or probe.returncode != 0:
        pytest.skip("user and mount namespaces are not available here (unshare -Urm)")
    mount = tmp_path / "mnt"
    mount.mkdir()
    script = tmp_path / "ns.py"
    script.write_text(NAMESPACE_SCRIPT)
    proc = subprocess.run([unshare, "--user", "--map-root-user", "--mount", sys.executable, str(script), scenario,
                           str(mount)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(" ", 1) for line in proc.stdout.strip().splitlines()]
    for code, message in rows[:4]:
        assert code == "2", message
        assert "|" not in message and "Traceback" not in message and message.startswith("aico-secure keyring:")
        assert words in message, message
    assert rows[4][0] == "0", "a failed write changed the keyring"
    assert rows[5][0] == "0", f"a failed write left files behind: {rows[5][1]}"


@pytest.mark.parametrize("name", [b"caf\xc3\xa9-\xff\xfe", b"new\nline", b"tab\there"])
def test_non_utf8_and_control_characters_in_directory_names(tmp_path: Path, name: bytes) -> None:
    directory = os.fsencode(tmp_path) + b"/" + name
    for action in (["create", "--profile", "test"], ["info"], ["rotate", "--dek", "libsql"], ["check"],
                   ["change-password"]):
        proc = cli(action[0], directory, *action[1:])
        assert proc.returncode == 0, proc.stderr
        assert b"Traceback" not in proc.stderr
        lines = proc.stdout.decode("utf-8").strip().splitlines()
        assert len(lines) == (2 if action[0] == "check" else 1), lines  # the name is escaped onto one line
        assert "keyring.json" in lines[-1]
    assert Keyring.unlock(Path(os.fsdecode(directory)) / "keyring.json", "hostile-new-password")


def test_non_utf8_password_is_refused_without_echoing_it(keydir: Path) -> None:
    before = (keydir / "keyring.json").read_bytes()
    proc = cli("check", str(keydir), password=b"secret-\xff-bytes")
    line = assert_one_line(proc, 2, "not UTF-8")
    assert "secret" not in line and "\\xff" not in line and "udcff" not in line
    assert (keydir / "keyring.json").read_bytes() == before


def test_library_refuses_planted_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "keyring.json"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def describe() -> None:
        try:
            Keyring.describe(fifo)
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001 - inspected below
            outcome.append(exc)

    reader = threading.Thread(target=describe, daemon=True)
    reader.start()
    reader.join(timeout=HANG_SECONDS)
    if reader.is_alive():  # blocked in open(): give it a writer so the thread and the test can end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=HANG_SECONDS)
        pytest.fail("reading a FIFO planted at the keyring path blocked")
    assert isinstance(outcome[0], KeyringIOError) and "not a regular file" in str(outcome[0])


@pytest.mark.parametrize("plant", ["dangling symlink", "symlink to a file", "fifo"])
def test_create_never_replaces_what_is_at_the_path(tmp_path: Path, plant: str) -> None:
    path = tmp_path / "keyring.json"
    victim = tmp_path / "victim"
    if plant == "dangling symlink":
        path.symlink_to(tmp_path / "nowhere")
    elif plant == "symlink to a file":
        victim.write_bytes(b"someone else's file")
        path.symlink_to(victim)
    else:
        os.mkfifo(path)
    assert_one_line(cli("create", str(tmp_path), "--profile", "test"), 2, "refusing to overwrite")
    assert not (tmp_path / "nowhere").exists()
    assert path.is_symlink() or path.is_fifo()
    if victim.exists():
        assert victim.read_bytes() == b"someone else's file"
