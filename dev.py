#!/usr/bin/env python3
"""The two set-up-and-run commands of this checkout (see README):

    python3 dev.py conform   # conformance suite against the reference build, report under reports/
    python3 dev.py test      # the project's tests (verification + conformance + controls)

Each creates ``.venv`` on first use (or when pyproject.toml changed) and installs the project into it, so a
fresh machine with Python 3.11 and pip needs nothing else. Extra arguments go to pytest / aico-secure.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".aico-secure-installed"
PYTHON = VENV / "bin" / "python"


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_environment() -> None:
    if not PYTHON.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    print("dev.py: installing aico-secure and its dependencies into .venv", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("conform", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_environment()
    env = dict(os.environ)
    if argv[0] == "conform":
        command = [str(VENV / "bin" / "aico-secure"), "conform", "--target", "aico_secure.reference:build",
                   "--profile", "quick", "--report-dir", str(ROOT / "reports"), *argv[1:]]
    else:
        env.setdefault("AICO_HYPOTHESIS_PROFILE", "ci" if env.get("CI") else "dev")
        command = [str(PYTHON), "-m", "pytest", *argv[1:]]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
