"""The target contract works for a build that is not ours: docs/examples/toy_adapter.py (an independent keyring
plus a short adapter) passes key management, and every capability it lacks is reported "not implemented",
which fails the run. This is the contract's promise to outside teams, checked end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_toy_build_passes_key_management_and_is_failed_for_what_it_lacks(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "docs" / "examples"))
    proc = subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "conform", "--target", "toy_adapter:build",
                           "--report-dir", str(tmp_path), "-n", "2"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(next(tmp_path.glob("*.json")).read_text())
    outcomes = {r["id"]: r["outcome"] for r in report["requirements"]}
    assert all(outcomes[i] == "pass" for i in outcomes if i.startswith("AICO-KM-")), outcomes
    lacking = [i for i in outcomes if i.split("-")[1] in {"DAR", "BUS", "TLS", "GW", "CON", "AUD", "ANO"}]
    assert lacking and all(outcomes[i] == "not implemented" for i in lacking), \
        {i: outcomes[i] for i in lacking if outcomes[i] != "not implemented"}
    assert report["verdict"] == "fail"
