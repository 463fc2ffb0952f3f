"""The pre-commit hooks published in ``.pre-commit-hooks.yaml`` run the real CLI and fail a dirty commit.

A hook whose ``entry`` names a script or subcommand that does not exist only breaks on a user's machine, after
pre-commit has built its environment; a hook that exits 0 on a planted key gates nothing. Both are checked
here by running each entry with the hook's own ``args`` on a tiny fixture, without pre-commit itself (it would
pip-install this repository from PyPI into its own environment).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import pytest
import yaml

from aico_secure.cli.main import build_parser

from ._hooks import ROOT, console_script, run

HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
# A 64-hex-character key under a secret name: AICO-S101, the rule a commit hook most needs to catch.
PLANTED_KEY = "0123456789abcdef" * 4
CANARY = "aico-precommit-canary-7f3a"


def _hooks() -> dict[str, dict[str, Any]]:
    loaded = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, list) and loaded, f"{HOOKS_FILE} holds no hooks"
    return {hook["id"]: hook for hook in loaded}


def _command(hook: dict[str, Any], extra: list[str]) -> list[str]:
    """What pre-commit runs: entry, then the hook's args, then (here: never) file names."""
    script, *rest = shlex.split(hook["entry"])
    return [str(console_script(script)), *rest, *[str(arg) for arg in hook.get("args", [])], *extra]


def _subcommands() -> set[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1
    return set(actions[0].choices)


def _git_repo(path: Path, source: str) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "app.py").write_text(source, encoding="utf-8")
    (path / "settings.yaml").write_text("bus:\n  bind: tcp://127.0.0.1:5555\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(path), "add", "."], check=True)
    return path


def test_the_published_hooks_are_the_two_the_docs_name() -> None:
    assert set(_hooks()) == {"aico-secure-scan", "aico-secure-inspect"}


@pytest.mark.parametrize("hook_id", ["aico-secure-scan", "aico-secure-inspect"])
def test_hook_entry_is_an_installed_console_script_and_subcommand(hook_id: str) -> None:
    hook = _hooks()[hook_id]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False, "scan and inspect take one directory, never a list of files"
    script, subcommand, *_ = shlex.split(hook["entry"])
    scripts = {ep.name: ep.value for ep in distribution("aico-secure").entry_points
               if ep.group == "console_scripts"}
    assert scripts.get(script) == "aico_secure.cli.main:main"
    assert subcommand in _subcommands()
    console_script(script)


def test_inspect_hook_always_runs_on_a_directory_from_args() -> None:
    hook = _hooks()["aico-secure-inspect"]
    assert hook["always_run"] is True
    assert not hook.get("args"), "the directory and canaries are the user's: no default can be right"


def test_scan_hook_fails_a_commit_with_a_hard_coded_key(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path / "dirty", f'import zmq\nsock = zmq.Context().socket(zmq.REP)\n'
                                          f'sock.curve_secretkey = b"{PLANTED_KEY}"\n')
    done = run(_command(_hooks()["aico-secure-scan"], []), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "AICO-S101" in done.stdout
    assert PLANTED_KEY not in done.stdout + done.stderr, "the key must be masked in the hook's output"


def test_scan_hook_passes_a_clean_commit(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path / "clean", "def add(a: int, b: int) -> int:\n    return a + b\n")
    done = run(_command(_hooks()["aico-secure-scan"], []), cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "static: 1 item(s) scanned" in done.stdout, "a clean verdict must come from files actually read"


def test_inspect_hook_fails_on_a_plaintext_canary(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "notes.txt").write_text(f"diary entry: {CANARY} in the clear\n", encoding="utf-8")
    done = run(_command(_hooks()["aico-secure-inspect"], [str(data), "--canary", CANARY]), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FINDINGS" in done.stdout


def test_inspect_hook_passes_a_directory_of_ciphertext(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "blob.bin").write_bytes(bytes(range(256)) * 16)
    done = run(_command(_hooks()["aico-secure-inspect"], [str(data), "--canary", CANARY]), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CLEAN" in done.stdout


def test_inspect_hook_without_args_refuses_instead_of_passing(tmp_path: Path) -> None:
    done = run(_command(_hooks()["aico-secure-inspect"], []), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
