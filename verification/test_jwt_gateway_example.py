"""The gateway contract judges a gateway that does not look like the reference: docs/examples/jwt_gateway
(FastAPI, PyJWT, password login over TLS, Argon2id at rest) logs in through the contract's ``LoginHook`` and
passes every gateway requirement but AICO-GW-001, which it fails because the server receives the password. An
error anywhere would mean the suite, not the build, broke on an unfamiliar shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GATEWAY_REQUIREMENTS = [f"AICO-GW-00{n}" for n in range(1, 6)]


def test_jwt_gateway_passes_the_gateway_area_but_zero_knowledge_login(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "docs" / "examples"))
    proc = subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "conform", "--target", "jwt_adapter:build",
                           "--report-dir", str(tmp_path), "-n", "2", "--pytest-args",
                           f"--aico-requirements={','.join(GATEWAY_REQUIREMENTS)}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(next(tmp_path.glob("*.json")).read_text())
    outcomes = {r["id"]: r["outcome"] for r in report["requirements"]}
    assert {i: outcomes.get(i) for i in GATEWAY_REQUIREMENTS} == {
        "AICO-GW-001": "fail", "AICO-GW-002": "pass", "AICO-GW-003": "pass", "AICO-GW-004": "pass",
        "AICO-GW-005": "pass"}, outcomes
    assert "error" not in outcomes.values(), outcomes
    assert report["verdict"] == "fail"
