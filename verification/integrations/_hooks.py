"""What the integration tests share: where the repository's integration files are and how to run the CLI.

The console script is resolved next to the interpreter running the tests, so the tests exercise the
``aico-secure`` this environment installed from ``pyproject.toml``'s ``[project.scripts]``, as pre-commit and
the GitHub Action would, instead of importing ``main`` and missing a broken entry point.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(sysconfig.get_path("scripts"))


def console_script(name: str) -> Path:
    """The installed console script, falling back to the interpreter's own bin directory (a venv not activated)."""
    for folder in (SCRIPTS, Path(sys.executable).parent):
        if (folder / name).is_file():
            return folder / name
    raise AssertionError(f"console script {name!r} is not installed next to {sys.executable}")


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Runs a command to completion; the timeout only stops a hung run from hanging the suite."""
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
