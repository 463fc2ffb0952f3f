"""Rollback anchors: an audit log (or only its checkpoint) and the gateway's revocation list restored from an
older copy are detected through the monotonic counters sealed in the keyring; the crash window between the file
and the anchor is accepted and caught up; the limit (keyring rolled back too) is what the docs say."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aico_secure.audit.anchor import KeyringAnchor, counter_name
from aico_secure.audit.chain import parse_header
from aico_secure.audit.codec import SealedCodec
from aico_secure.audit.errors import AuditLogTampered
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import CHECKPOINT_NAME, LOG_NAME
from aico_secure.audit.log import AuditLog
from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.audit.verify import Verification, verify_log
from aico_secure.gateway.errors import GatewayStateError
from aico_secure.gateway.revocation import COUNTER_PREFIX, REVOKED_FILE, RevocationList, RevocationRollbackError
from aico_secure.gateway.sealed import SealedJson
from aico_secure.keys import UnlockedKeyring

from .conftest import PASSWORD


def event(i: int) -> AuditEvent:
    return AuditEvent(category="auth", action="login", actor="198.51.100.9", result="failure", details={"i": i})


def write(directory: Path, keys: KeyringLogKeys, anchor: KeyringAnchor | None, count: int) -> AuditLog:
    log = AuditLog.open(directory, keys, durable=False, anchor=anchor)
    for i in range(count):
        log.append(event(i))
    log.close()
    return log


def log_id_of(directory: Path) -> bytes:
    header = parse_header((directory / LOG_NAME).read_bytes().split(b"\n", 1)[0] + b"\n")
    assert header is not None
    return header.log_id


def snapshot(directory: Path, into: Path) -> Path:
    shutil.copytree(directory, into)
    return into


def restore(copy: Path, directory: Path, names: tuple[str, ...] = (LOG_NAME, CHECKPOINT_NAME)) -> None:
    for name in names:
        shutil.copy2(copy / name, directory / name)


def check(directory: Path, keys: KeyringLogKeys, anchor: KeyringAnchor | None) -> Verification:
    return verify_log(directory, keys, SealedCodec(keys), anchor=anchor)


@pytest.fixture
def anchor(keyring: UnlockedKeyring) -> KeyringAnchor:
    return KeyringAnchor(keyring)


def test_a_restored_older_log_is_detected_as_rolled_back(tmp_path: Path, log_keys: KeyringLogKeys,
                                                         anchor: KeyringAnchor, keyring: UnlockedKeyring) -> None:
    audit = tmp_path / "audit"
    write(audit, log_keys, anchor, 3)
    old = snapshot(audit, tmp_path / "yesterday")
    write(audit, log_keys, anchor, 4)
    assert check(audit, log_keys, anchor).ok
    restore(old, audit)
    assert check(audit, log_keys, None).ok, "without the anchor the older copy is a complete, authentic log"
    found = check(audit, log_keys, anchor)
    assert not found.ok and found.rolled_back and found.anchor_count == 7
    kinds = [(p.kind, p.position) for p in found.problems]
    assert ("truncated", 3) in kinds and ("unreadable", -1) in kinds, kinds
    assert all("rolled back" in p.detail for p in found.problems)
    before = (audit / LOG_NAME).read_bytes()
    with pytest.raises(AuditLogTampered, match="rolled back"):
        AuditLog.open(audit, log_keys, anchor=anchor)
    assert (audit / LOG_NAME).read_bytes() == before, "refusing must leave the files as found"
    env = {**os.environ, "AICO_SECURE_PASSWORD": PASSWORD}
    done = subprocess.run([sys.executable, "-c", "import sys; from aico_secure.cli.main import main; "
                           "sys.exit(main())", "audit", "verify", str(audit), "--keyring", str(keyring.path.parent)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "ROLLED BACK" in done.stdout and "entry 3" in done.stdout and "rolled back" in done.stdout


def test_a_restored_older_checkpoint_alone_is_detected(tmp_path: Path, log_keys: KeyringLogKeys,
                                                       anchor: KeyringAnchor) -> None:
    audit = tmp_path / "audit"
    write(audit, log_keys, anchor, 2)
    old = snapshot(audit, tmp_path / "before")
    write(audit, log_keys, anchor, 2)
    restore(old, audit, (CHECKPOINT_NAME,))
    assert check(audit, log_keys, None).ok, "without the anchor this reads as a crash before the checkpoint"
    found = check(audit, log_keys, anchor)
    assert not found.ok and found.rolled_back
    assert [(p.kind, p.position) for p in found.problems] == [("unreadable", -1)]


def test_a_crash_between_checkpoint_and_anchor_is_accepted_and_caught_up(tmp_path: Path, log_keys: KeyringLogKeys,
                                                                         anchor: KeyringAnchor,
                                                                         keyring: UnlockedKeyring) -> None:
    audit = tmp_path / "audit"
    write(audit, log_keys, anchor, 2)
    name = counter_name(log_id_of(audit))
    write(audit, log_keys, None, 1)  # checkpoint moved to 3, anchor left at 2: the crash window
    assert keyring.counter(name) == 2
    found = check(audit, log_keys, anchor)
    assert found.ok and found.anchor_count == 2 and found.checkpoint_count == 3
    AuditLog.open(audit, log_keys, anchor=anchor).close()
    assert keyring.counter(name) == 3, "opening must catch the anchor up"


def test_every_acknowledged_append_is_anchored(tmp_path: Path, log_keys: KeyringLogKeys, anchor: KeyringAnchor,
                                               keyring: UnlockedKeyring) -> None:
    audit = tmp_path / "audit"
    log = AuditLog.open(audit, log_keys, durable=False, anchor=anchor)
    try:
        for i in range(3):
            log.append(event(i))
            assert keyring.counter(counter_name(log_id_of(audit))) == i + 1
    finally:
        log.close()


# ---- the gateway's revocation list ---------------------------------------------------------------------------
def clock() -> float:
    return 1_000.0


def test_a_restored_older_revocation_list_is_refused(tmp_path: Path, keyring: UnlockedKeyring) -> None:
    revocations = RevocationList(keyring, tmp_path, clock)
    revocations.create()
    revocations.revoke("sid:first", 5_000.0)
    old = (tmp_path / REVOKED_FILE).read_bytes()
    revocations.revoke("sid:stolen", 5_000.0)
    assert RevocationList(keyring, tmp_path, clock).is_revoked("sid:stolen")
    (tmp_path / REVOKED_FILE).write_bytes(old)  # un-revokes the stolen session
    with pytest.raises(RevocationRollbackError, match="rolled back"):
        RevocationList(keyring, tmp_path, clock)
    assert issubclass(RevocationRollbackError, GatewayStateError), "the reference gateway maps it to " \
        "IntegrityViolation"


def test_a_crash_between_revocation_file_and_anchor_loads_and_catches_up(tmp_path: Path,
                                                                         keyring: UnlockedKeyring) -> None:
    revocations = RevocationList(keyring, tmp_path, clock)
    revocations.create()
    revocations.revoke("sid:a", 5_000.0)
    generation = revocations.generation
    sealed = SealedJson(keyring, tmp_path / REVOKED_FILE, "revocations")
    document = sealed.load()
    sealed.save({**document, "entries": {**document["entries"], "sid:b": 5_000.0}, "generation": generation + 1})
    name = COUNTER_PREFIX + document["list_id"]
    assert keyring.counter(name) == generation
    reopened = RevocationList(keyring, tmp_path, clock)
    assert reopened.is_revoked("sid:b") and reopened.generation == generation + 1
    assert keyring.counter(name) == generation + 1


def test_a_revocation_list_from_before_generations_is_anchored_on_its_next_save(tmp_path: Path,
                                                                               keyring: UnlockedKeyring) -> None:
    sealed = SealedJson(keyring, tmp_path / REVOKED_FILE, "revocations")
    sealed.save({"entries": {"sid:old": 5_000.0}})
    legacy = RevocationList(keyring, tmp_path, clock)
    assert legacy.is_revoked("sid:old") and legacy.generation == 0
    legacy.revoke("sid:new", 5_000.0)
    document = sealed.load()
    assert keyring.counter(COUNTER_PREFIX + document["list_id"]) == document["generation"] == 1


@pytest.mark.parametrize("document", [{"entries": {}, "generation": -1}, {"entries": {}, "generation": True},
                                      {"entries": {}, "generation": 1, "list_id": "XYZ"},
                                      {"entries": {"sid:x": True}}])
def test_a_malformed_revocation_list_is_refused(tmp_path: Path, keyring: UnlockedKeyring,
                                                document: dict[str, object]) -> None:
    SealedJson(keyring, tmp_path / REVOKED_FILE, "revocations").save(document)
    with pytest.raises(GatewayStateError, match="malformed"):
        RevocationList(keyring, tmp_path, clock)
