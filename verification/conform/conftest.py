"""Helpers for the conformance runner's own tests: hostile target modules written on the fly, and the real
``aico-secure`` command line run in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("aico-secure")
CLI = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "aico_secure.cli.main"]

# A target whose consent capability blocks forever in every call (the rest is the reference build).
BLOCKING_CONSENT = """
    import threading
    from dataclasses import replace

    from aico_secure.reference import build as reference


    class BlockingService:
        def __getattr__(self, name):
            def block(*args, **kwargs):
                threading.Event().wait()
            return block


    class BlockingConsent:
        def open(self, session, directory, *, audit=None, clock=None):
            return BlockingService()


    def build():
        return replace(reference(), name="blocking consent", consent=BlockingConsent())
"""


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on this process's import path (and so on the loader child's) for throwaway target modules."""
    folder = tmp_path / "mods"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


@pytest.fixture
def target_module(module_dir: Path) -> Callable[[str], str]:
    """``target_module(source)``: write a module with a unique name; returns its name."""

    def make(source: str) -> str:
        name = f"aico_test_target_{uuid.uuid4().hex[:12]}"
        (module_dir / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        return name

    return make


def run_cli(cwd: Path, *args: str, pythonpath: Path | None = None, timeout: float = 300,
            preexec: Callable[[], Any] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed ``aico-secure`` in a subprocess, with ``pythonpath`` importable (for throwaway targets)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath or ""), str(ROOT), env.get("PYTHONPATH", "")]))
    cwd.mkdir(parents=True, exist_ok=True)

    def start() -> None:
        os.setsid()  # its own process group: on timeout everything it started is killed, pytest workers too
        if preexec is not None:
            preexec()

    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, cwd=cwd, env=env, preexec_fn=start)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def latest_report(folder: Path) -> dict[str, Any]:
    reports = sorted(folder.glob("*.json"))
    return json.loads(reports[-1].read_text()) if reports else {}
