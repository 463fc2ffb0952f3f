"""The contract judges a build that looks nothing like the reference, and reports its flaws where they belong.

docs/examples/sqlite_build is written the way another team might build AICO: its own Argon2id vault with an
in-process session cache, and stdlib SQLite with every row sealed by AES-GCM as the ``libsql`` store, no other
capability. It ships known flaws (listed in its package docstring). One conformance run over the key-management
and data-at-rest requirements must report each flaw "fail" on the requirement it breaks, pass everything else
the build implements, call the stores it lacks "not implemented", and report nothing "error" (an error would
mean the contract did not fit the build). Each expectation is its own test, so a report names every one that
does not hold.

Requirements DAR-005..008 apply to every store, so for a libsql-only build they are at best "not implemented"
(the other stores' cases); what the build itself earns there is read from its ``[libsql]`` tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
KM = [f"AICO-KM-{n:03d}" for n in range(1, 12)]
DAR = [f"AICO-DAR-{n:03d}" for n in range(1, 9)]
# Known flaw -> the requirement it breaks, with a test that must catch it (None: no particular test is named).
KNOWN_FLAWS: dict[str, str | None] = {
    # 1. The session cache keeps the old password's check after a password change.
    "AICO-KM-008": "keys/test_km_unlock.py::test_password_change_refuses_the_old_password",
    # 1, seen from the stores: the same unlock with the old password, after a change made with a store in use.
    "AICO-DAR-008": "stores/test_dar_rotation.py::test_password_change_refuses_the_old_password[libsql]",
    # 2. GCM nonces from a counter that starts again at zero in every session.
    "AICO-KM-011": "keys/test_km_envelope.py::test_no_keystream_reuse_across_sessions[same-instance]",
    # 3. compact() is an incremental vacuum with secure_delete off: deleted rows still decrypt with the keys.
    "AICO-DAR-006": "stores/test_dar_deletion.py::test_deleted_data_leaves_the_keys_reach[libsql]",
    # 4. A plain SQLite file (values sealed per row): schema, record count and sizes readable.
    "AICO-DAR-001": "stores/test_dar_at_rest.py::test_file_level_store_has_no_readable_database_structure[libsql]",
    # 5. The vault file is read with a plain open: a FIFO in its place blocks the unlock forever.
    "AICO-KM-009": "keys/test_km_unlock.py::test_a_keyring_file_replaced_by_a_fifo_is_refused_without_blocking",
}
LACKING_STORES = ("AICO-DAR-002", "AICO-DAR-003", "AICO-DAR-004")  # chroma, duckdb, rocksdb: at-rest requirements
STORE_WIDE = ("AICO-DAR-005", "AICO-DAR-006", "AICO-DAR-007", "AICO-DAR-008")


def _run_conform(report_dir: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "docs" / "examples"))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "conform", "--target",
                           "sqlite_build.adapter:build", "--report-dir", str(report_dir), "-n", "2",
                           "--pytest-args", f"--aico-requirements={','.join(KM + DAR)}"],
                          cwd=report_dir, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return proc, time.monotonic() - started


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One conformance run of the example, limited to the areas it implements, shared by every test here."""
    report_dir = tmp_path_factory.mktemp("sqlite-build-report")
    proc, seconds = _run_conform(report_dir)
    assert proc.returncode == 1, f"exit {proc.returncode} after {seconds:.0f} s: {proc.stdout[-2000:]}" \
                                 f"{proc.stderr[-2000:]}"
    found = sorted(report_dir.glob("*.json"))
    assert len(found) == 1, f"expected one JSON report, found {found}"
    loaded: dict[str, Any] = json.loads(found[0].read_text())
    return loaded


def _outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["outcome"] for r in report["requirements"]}


def _tests(report: dict[str, Any], requirement: str) -> dict[str, dict[str, Any]]:
    found = [r for r in report["requirements"] if r["id"] == requirement]
    assert found, f"{requirement} is not in the report: nothing judged it"
    return {t["nodeid"]: t for t in found[0]["tests"]}


def _not_passed(tests: dict[str, dict[str, Any]], *, also_fine: tuple[str, ...] = ()) -> dict[str, str]:
    return {nodeid: f"{t['outcome']}: {t['message'][:200]}" for nodeid, t in tests.items()
            if t["outcome"] not in ("pass", *also_fine)}


def test_every_key_and_store_requirement_was_judged(report: dict[str, Any]) -> None:
    """Fail closed: a run that judged fewer requirements than asked proves nothing about the rest."""
    assert sorted(_outcomes(report)) == sorted(KM + DAR)
    assert report["verdict"] == "fail"
    assert report["target"]["name"] == "sqlite build (outside example)"


@pytest.mark.parametrize("requirement", sorted(KNOWN_FLAWS))
def test_known_flaw_fails_its_requirement(report: dict[str, Any], requirement: str) -> None:
    tests = _tests(report, requirement)
    assert _outcomes(report)[requirement] == "fail", (
        f"{requirement}: the build's known flaw was not reported; its tests: {sorted(tests)}")
    catcher = KNOWN_FLAWS[requirement]
    if catcher is not None:
        assert catcher in tests and tests[catcher]["outcome"] == "fail", (
            f"{requirement} failed, but not where the flaw shows: {_not_passed(tests)}")


@pytest.mark.parametrize("requirement", [r for r in KM if r not in KNOWN_FLAWS])
def test_key_management_without_a_flaw_passes(report: dict[str, Any], requirement: str) -> None:
    assert _outcomes(report)[requirement] == "pass", _not_passed(_tests(report, requirement))


@pytest.mark.parametrize("requirement", [r for r in STORE_WIDE if r not in KNOWN_FLAWS])
def test_libsql_store_without_a_flaw_passes(report: dict[str, Any], requirement: str) -> None:
    """Every ``[libsql]`` case of the requirement passes (the other stores' cases are "not implemented")."""
    libsql = {n: t for n, t in _tests(report, requirement).items() if "libsql" in n.rpartition("[")[2]}
    assert libsql, f"{requirement} has no libsql case: nothing judged the build's store"
    assert not _not_passed(libsql), _not_passed(libsql)


@pytest.mark.parametrize("requirement", LACKING_STORES)
def test_stores_the_build_lacks_are_not_implemented(report: dict[str, Any], requirement: str) -> None:
    assert _outcomes(report)[requirement] == "not implemented", _not_passed(_tests(report, requirement))


@pytest.mark.parametrize("requirement", [r for r in STORE_WIDE if r not in KNOWN_FLAWS])
def test_store_wide_requirements_are_not_implemented_for_the_missing_stores(report: dict[str, Any],
                                                                           requirement: str) -> None:
    assert _outcomes(report)[requirement] == "not implemented", (
        _not_passed(_tests(report, requirement), also_fine=("not implemented",)))


def test_nothing_is_an_error(report: dict[str, Any]) -> None:
    """An error means the contract did not fit the build (or the suite broke), never a verdict on the build."""
    errors = {t["nodeid"]: t["message"][:300] for r in report["requirements"] for t in r["tests"]
              if t["outcome"] == "error"}
    assert not errors
    assert "error" not in _outcomes(report).values()
