"""The Wycheproof vectors travel with the project and a missing copy fails loudly, never quietly."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "vectors" / "wycheproof"
VECTOR_TEST = "verification/keys/test_primitives_wycheproof.py"
VECTOR_FILES = ("aes_gcm_test.json", "ed25519_test.json", "hkdf_sha256_test.json", "hmac_sha256_test.json")


def test_vendored_vectors_carry_their_licence_and_provenance() -> None:
    assert "Apache License" in (VENDORED / "LICENSE").read_text()
    readme = (VENDORED / "README.md").read_text()
    assert "C2SP/wycheproof" in readme and "commit" in readme


def test_vendored_vectors_are_the_recorded_upstream_files() -> None:
    recorded = dict(reversed(line.split()) for line in (VENDORED / "SHA256SUMS").read_text().splitlines())
    assert sorted(recorded) == sorted(VECTOR_FILES)
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("vectors", VECTOR_FILES)
def test_vendored_vectors_are_whole(vectors: str) -> None:
    data = json.loads((VENDORED / vectors).read_bytes())
    assert data["numberOfTests"] == sum(len(g["tests"]) for g in data["testGroups"]) > 0


def _run_vector_tests(*extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AICO_WYCHEPROOF_ROOT"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", VECTOR_TEST, *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_missing_vectors_fail_each_vector_test_without_breaking_collection(tmp_path: Path) -> None:
    result = _run_vector_tests(f"--wycheproof-root={tmp_path}")
    assert result.returncode == 1, result.stdout + result.stderr
    # One failing (erroring) case per vector test: the rest of the run is collected and reported as usual.
    assert f"{len(VECTOR_FILES)} errors" in result.stdout.splitlines()[-1], result.stdout
    assert result.stdout.count("not found; pass --wycheproof-root") >= len(VECTOR_FILES)


def test_unreadable_vectors_fail_rather_than_pass(tmp_path: Path) -> None:
    for name in VECTOR_FILES:
        (tmp_path / name).write_text("{not json")
    result = _run_vector_tests(f"--wycheproof-root={tmp_path}")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{len(VECTOR_FILES)} errors" in result.stdout.splitlines()[-1] and "unreadable" in result.stdout


def test_default_root_is_the_vendored_copy() -> None:
    result = _run_vector_tests("--co")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "vectors-missing" not in result.stdout and "tc1]" in result.stdout
