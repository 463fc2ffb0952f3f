"""Every requirement is judged on its own: a build lacking an optional operation the requirement is not about
still gets a verdict on it.

For each group of requirements declaring the same ``exercises`` (conformance/requirements.yaml), the suite runs,
restricted to that group, against the reference build with every other optional operation stripped
(``aico_secure.conform.strip``). The reference is correct, so any verdict but "pass" is a cascade: a test used
an operation its requirement is not about as set-up, and a build without it would come out "not implemented"
(or failed) for the wrong reason. Each run is a real one, exactly as ``aico-secure conform --controls`` runs a
control: a fresh pytest process, ``--aico-target`` naming a factory, a JSON report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from aico_secure.conform.catalog import load_catalog
from aico_secure.conform.optional import OPTIONAL_OPERATIONS
from aico_secure.conform.runner import INI
from aico_secure.conform.strip import BASE_ENV, KEEP_ENV, stripped
from aico_secure.conform.suite import suite_dir

RUN_TIMEOUT = 1800  # seconds for one group's run


def _groups() -> dict[frozenset[str], list[str]]:
    groups: dict[frozenset[str], list[str]] = {}
    for requirement in load_catalog().requirements:
        groups.setdefault(requirement.exercises, []).append(requirement.id)
    return groups


GROUPS = _groups()


def _name(kept: frozenset[str]) -> str:
    return "keep-" + ("+".join(sorted(kept)) if kept else "nothing")


Verdicts = dict[str, tuple[str, list[tuple[str, str, str]]]]


def run_stripped(requirement_ids: list[str], kept: frozenset[str]) -> Verdicts:
    """Verdicts of ``requirement_ids`` on the reference build keeping only ``kept``: id -> (outcome, each of its
    tests as (node id, outcome, message))."""
    suite = suite_dir()
    with tempfile.TemporaryDirectory(prefix="aico-independence-") as tmp:
        command = [sys.executable, "-m", "pytest", str(suite), "-c", str(INI), "--rootdir", str(suite), "-q",
                   "-p", "no:randomly", "--aico-target=aico_secure.conform.strip:build", "--aico-profile=quick",
                   f"--aico-requirements={','.join(requirement_ids)}", f"--aico-report-dir={tmp}",
                   "--aico-report-format=json"]
        env = dict(os.environ)
        env[KEEP_ENV] = ",".join(sorted(kept))
        env[BASE_ENV] = "aico_secure.reference:build"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(suite.parent), env.get("PYTHONPATH", "")]))
        proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                              stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT)
        reports = list(Path(tmp).glob("*.json"))
        assert reports, "no report written: " + " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        data = json.loads(reports[0].read_text())
    verdicts: Verdicts = {}
    for r in data["requirements"]:
        tests = [(t.get("nodeid", "?"), t.get("outcome", "?"), t.get("message", "")[:160])
                 for t in r.get("tests", [])]
        verdicts[r["id"]] = (r["outcome"], tests)
    return verdicts


def _listed(tests: list[tuple[str, str, str]]) -> str:
    failing = [t for t in tests if t[1] != "pass"]
    return "\n    ".join(f"{nodeid}: {outcome}: {message}" for nodeid, outcome, message in failing[:6])


def test_every_requirement_is_in_a_group() -> None:
    """Fail closed: the parametrisation below must cover the whole catalog, and name real operations."""
    covered = sorted(rid for ids in GROUPS.values() for rid in ids)
    assert covered == sorted(load_catalog().ids())
    assert all(kept <= OPTIONAL_OPERATIONS.keys() for kept in GROUPS)


@pytest.mark.parametrize("kept", [pytest.param(k, id=_name(k)) for k in sorted(GROUPS, key=_name)])
def test_requirements_pass_without_the_operations_they_are_not_about(kept: frozenset[str]) -> None:
    ids = GROUPS[kept]
    verdicts = run_stripped(ids, kept)
    missing = [rid for rid in ids if rid not in verdicts]
    assert not missing, f"no verdict at all for {missing}: nothing ran"
    cascades = {rid: v for rid, v in verdicts.items() if rid in ids and v[0] != "pass"}
    assert not cascades, "\n".join(
        f"{rid} is {outcome} without {sorted(OPTIONAL_OPERATIONS.keys() - kept)}:\n    " + _listed(tests)
        for rid, (outcome, tests) in cascades.items())


def test_a_missing_operation_is_not_implemented_never_a_failure() -> None:
    """The other half: with every optional operation gone, the requirements about them may come out "not
    implemented", but no test may fail or error (a missing operation is not a defect), and at least one test
    of the run must pass (the stripped build really ran)."""
    ids = sorted(rid for kept, rids in GROUPS.items() if kept for rid in rids)
    verdicts = run_stripped(ids, frozenset())
    missing = [rid for rid in ids if rid not in verdicts]
    assert not missing, f"no verdict at all for {missing}: nothing ran"
    wrong = {rid: [t for t in tests if t[1] not in ("pass", "not implemented")]
             for rid, (_o, tests) in verdicts.items()}
    wrong = {rid: tests for rid, tests in wrong.items() if tests}
    assert not wrong, "\n".join(f"{rid} without any optional operation:\n    " + _listed(tests)
                                for rid, tests in wrong.items())
    assert any(t[1] == "pass" for _o, tests in verdicts.values() for t in tests), (
        "no test passed on the stripped build: nothing ran")


def test_the_stripped_build_lacks_exactly_what_was_not_kept(tmp_path: Path) -> None:
    """The wrapper itself: a stripped operation raises NotImplementedError, a stripped hook fails its Protocol
    check, and what was kept works as in the reference (so a "pass" above is the reference's own)."""
    from aico_secure.reference import build as reference
    from aico_secure.target.keys import KeySession, SealingKeyObservable, WrappingKeyObservable
    from aico_secure.target.stores import RecordStore, SealingKeyHook

    target = stripped(reference(), {"KeySession.rotate_kek", "SealingKeyObservable"})
    assert target.keys is not None
    session = target.keys.create(tmp_path / "keys", "Amber-Orbit-quiet-Lantern-4821!", fast_kdf=True)
    assert isinstance(session, KeySession) and isinstance(session, SealingKeyObservable)
    assert not isinstance(session, WrappingKeyObservable)
    blob = session.seal("libsql", b"k", b"v")
    assert session.sealing_key_id("libsql", blob) == session.data_key_ids("libsql")[-1]
    session.rotate_kek("libsql")
    with pytest.raises(NotImplementedError):
        session.rotate_data_key("libsql")
    assert target.keys.describe_kdf(tmp_path / "keys").salt_id is None
    store = target.stores["libsql"].open(session, tmp_path / "store")
    try:
        assert isinstance(store, RecordStore) and not isinstance(store, SealingKeyHook)
        store.put("a", b"b")
        assert store.get("a") == b"b"
        with pytest.raises(NotImplementedError):
            store.compact()
    finally:
        store.close()
        session.close()
