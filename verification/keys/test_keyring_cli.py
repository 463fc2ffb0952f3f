"""``aico-secure keyring``: bad input gets one clear line and a non-zero exit, and nothing is overwritten."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PASSWORD = "cli-password-123"


def cli(*args: str, password: str | None = PASSWORD, new: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICO_SECURE_")}
    if password is not None:
        env["AICO_SECURE_PASSWORD"] = password
    if new is not None:
        env["AICO_SECURE_NEW_PASSWORD"] = new
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "keyring", *args], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL)


@pytest.fixture
def keydir(tmp_path: Path) -> Path:
    assert cli("create", str(tmp_path), "--profile", "test").returncode == 0
    return tmp_path


def test_happy_path(keydir: Path) -> None:
    assert "TEST-ONLY" in cli("info", str(keydir), password=None).stdout
    assert cli("rotate", str(keydir), "--dek", "libsql").returncode == 0
    assert cli("rotate", str(keydir), "--master").returncode == 0
    assert cli("change-password", str(keydir), new="next-password").returncode == 0
    assert cli("check", str(keydir), password="next-password").returncode == 0


def _assert_refused(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aico-secure keyring:"), proc.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert PASSWORD not in proc.stderr + proc.stdout


def test_wrong_password_exits_1_and_changes_nothing(keydir: Path) -> None:
    before = (keydir / "keyring.json").read_bytes()
    for action in (["check"], ["rotate", "--master"], ["change-password"]):
        _assert_refused(cli(action[0], str(keydir), *action[1:], password="wrong", new="x"), 1, "wrong password")
    assert (keydir / "keyring.json").read_bytes() == before


@pytest.mark.parametrize("damage, words", [
    (lambda b: b[: len(b) // 2], ["not valid JSON"]),
    (lambda b: b"", ["empty"]),
    (lambda b: b.replace(b'"format_version": 1', b'"format_version": 7'), ["newer", "upgrade"]),
    (lambda b: b.replace(b'"format_version": 1', b'"format_version": 0'), ["format version 0"]),
    (lambda b: b.replace(b'"aico-secure-keyring"', b'"other"'), ["not an aico-secure keyring"]),
    (lambda b: b[:40] + bytes([b[40] ^ 1]) + b[41:], []),
])
def test_damaged_keyring_exits_2_and_is_not_overwritten(keydir: Path, damage, words: list[str]) -> None:
    path = keydir / "keyring.json"
    path.write_bytes(damage(path.read_bytes()))
    damaged = path.read_bytes()
    # "info" reads without the password, so it cannot authenticate; it must still refuse malformed files.
    for action in (["check"], ["rotate", "--dek", "libsql"], *([["info"]] if words else [])):
        proc = cli(action[0], str(keydir), *action[1:])
        assert proc.returncode in (1, 2)
        _assert_refused(proc, proc.returncode, *words)
    assert path.read_bytes() == damaged


def test_usage_errors(tmp_path: Path, keydir: Path) -> None:
    _assert_refused(cli("check", str(tmp_path / "missing")), 2, "no keyring")
    _assert_refused(cli("create", str(keydir), "--profile", "test"), 2, "refusing to overwrite")
    _assert_refused(cli("check", str(keydir), password=None), 2, "no password")
    _assert_refused(cli("rotate", str(keydir), "--dek", "Bad Purpose!"), 2, "purpose")
    assert json.loads((keydir / "keyring.json").read_text())["format"] == "aico-secure-keyring"
