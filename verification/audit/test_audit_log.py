"""The audit log writer: resume, locking, crash repair, rollback on write errors, keys across rotation, file
modes, and refusal of malformed events."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aico_secure.audit import log as log_module
from aico_secure.audit.codec import SealedCodec
from aico_secure.audit.errors import AuditLogBusy, AuditLogTampered, AuditWriteError, InvalidAuditEvent
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import CHECKPOINT_NAME, LOG_NAME
from aico_secure.audit.log import AuditLog
from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.audit.verify import verify_log
from aico_secure.keys import Keyring, UnlockedKeyring

from .conftest import PASSWORD


def event(i: int = 0, **overrides: object) -> AuditEvent:
    fields: dict[str, object] = {"category": "data_access", "action": "read", "actor": "user-1",
                                 "subject": "notes", "details": {"i": i}}
    fields.update(overrides)
    return AuditEvent(**fields)  # type: ignore[arg-type]


def verify(directory: Path, keys: KeyringLogKeys) -> list[tuple[str, int]]:
    found = verify_log(directory, keys, SealedCodec(keys))
    return [(p.kind, p.position) for p in found.problems]


def test_events_survive_reopening_and_the_sequence_resumes(audit_dir: Path, log_keys: KeyringLogKeys) -> None:
    log = AuditLog.open(audit_dir, log_keys, clock=lambda: 1000.0)
    stored = log.append(event(1))
    assert stored.timestamp == 1000.0
    log.close()
    log = AuditLog.open(audit_dir, log_keys, clock=lambda: 2000.0)
    log.append(event(2, timestamp=1500.0))
    assert [e.details["i"] for e in log.events()] == [1, 2]
    assert [e.timestamp for e in log.events()] == [1000.0, 1500.0]
    assert log.entries == 2
    log.close()
    log.close()  # idempotent
    assert verify(audit_dir, log_keys) == []


def test_a_second_writer_is_refused(audit_dir: Path, log_keys: KeyringLogKeys) -> None:
    log = AuditLog.open(audit_dir, log_keys)
    try:
        with pytest.raises(AuditLogBusy):
            AuditLog.open(audit_dir, log_keys)
    finally:
        log.close()
    AuditLog.open(audit_dir, log_keys).close()


def test_a_partial_last_line_is_reported_then_repaired_by_the_writer(audit_dir: Path,
                                                                     log_keys: KeyringLogKeys) -> None:
    log = AuditLog.open(audit_dir, log_keys)
    log.append(event(1))
    log.close()
    with (audit_dir / LOG_NAME).open("ab") as fh:
        fh.write(b"2 0011")  # a crash in the middle of writing entry 2
    assert verify(audit_dir, log_keys) == [("inserted", 1)]
    log = AuditLog.open(audit_dir, log_keys)
    log.append(event(2))
    events = log.events()
    log.close()
    assert [e.action for e in events] == ["read", "torn_tail_removed", "read"]
    assert verify(audit_dir, log_keys) == []


def test_an_entry_after_the_checkpoint_is_accepted_and_reanchored(audit_dir: Path,
                                                                  log_keys: KeyringLogKeys) -> None:
    log = AuditLog.open(audit_dir, log_keys)
    log.append(event(1))
    old_checkpoint = (audit_dir / CHECKPOINT_NAME).read_bytes()
    log.append(event(2))
    log.close()
    (audit_dir / CHECKPOINT_NAME).write_bytes(old_checkpoint)  # as if the process died before moving it
    found = verify_log(audit_dir, log_keys, SealedCodec(log_keys))
    assert found.ok and found.warnings and found.checkpoint_count == 1
    AuditLog.open(audit_dir, log_keys).close()
    assert verify_log(audit_dir, log_keys, SealedCodec(log_keys)).checkpoint_count == 2


def test_a_tampered_log_is_refused_and_left_as_found(audit_dir: Path, log_keys: KeyringLogKeys) -> None:
    log = AuditLog.open(audit_dir, log_keys)
    for i in range(3):
        log.append(event(i))
    log.close()
    data = (audit_dir / LOG_NAME).read_bytes()
    lines = data.splitlines(keepends=True)
    (audit_dir / LOG_NAME).write_bytes(b"".join(lines[:2] + lines[3:]))
    before = (audit_dir / LOG_NAME).read_bytes()
    with pytest.raises(AuditLogTampered) as caught:
        AuditLog.open(audit_dir, log_keys)
    assert caught.value.verification.problems[0].kind == "deleted"
    assert (audit_dir / LOG_NAME).read_bytes() == before


def test_a_failed_write_is_rolled_back(audit_dir: Path, log_keys: KeyringLogKeys,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    log = AuditLog.open(audit_dir, log_keys)
    log.append(event(1))
    real_write = os.write

    def half_then_fail(fd: int, data: bytes | memoryview) -> int:
        monkeypatch.setattr(log_module.os, "write", real_write)
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(log_module.os, "write", half_then_fail)
    with pytest.raises(AuditWriteError):
        log.append(event(2))
    log.append(event(3))
    assert [e.details["i"] for e in log.events()] == [1, 3]
    log.close()
    assert verify(audit_dir, log_keys) == []


def test_malformed_events_are_refused_and_nothing_is_written(audit_dir: Path, log_keys: KeyringLogKeys) -> None:
    log = AuditLog.open(audit_dir, log_keys)
    size = (audit_dir / LOG_NAME).stat().st_size
    for bad in (event(category="bogus"), event(result="maybe"), event(actor=""), event(action="x" * 600),
                event(timestamp=float("nan")), "not an event"):
        with pytest.raises(InvalidAuditEvent):
            log.append(bad)  # type: ignore[arg-type]
    assert (audit_dir / LOG_NAME).stat().st_size == size
    log.close()


def test_old_entries_verify_after_rotations_and_password_change(tmp_path: Path) -> None:
    keyring = Keyring.create(Keyring.path_in(tmp_path / "keys"), PASSWORD, profile="test")
    keys = KeyringLogKeys(keyring)
    log = AuditLog.open(tmp_path / "audit", keys)
    log.append(event(1))
    keyring.rotate_dek("audit")
    keyring.rotate_dek("audit-mac")
    keyring.rotate_master(PASSWORD)
    log.append(event(2))
    keyring.change_password(PASSWORD, PASSWORD + "2")
    log.append(event(3))
    log.close()
    again: UnlockedKeyring = Keyring.unlock(Keyring.path_in(tmp_path / "keys"), PASSWORD + "2")
    again_keys = KeyringLogKeys(again)
    found = verify_log(tmp_path / "audit", again_keys, SealedCodec(again_keys))
    assert found.ok and [e.details["i"] for e in found.events()] == [1, 2, 3]


def test_another_keyring_reads_nothing(audit_dir: Path, log_keys: KeyringLogKeys, tmp_path: Path) -> None:
    log = AuditLog.open(audit_dir, log_keys)
    log.append(event(1))
    log.close()
    stranger = KeyringLogKeys(Keyring.create(Keyring.path_in(tmp_path / "other"), PASSWORD, profile="test"))
    found = verify_log(audit_dir, stranger, SealedCodec(stranger))
    assert not found.ok and not found.header_ok and found.authentic == 0


def test_files_are_private(audit_dir: Path, log_keys: KeyringLogKeys) -> None:
    AuditLog.open(audit_dir, log_keys).close()
    assert stat.S_IMODE(audit_dir.stat().st_mode) == 0o700
    for name in (LOG_NAME, CHECKPOINT_NAME):
        assert stat.S_IMODE((audit_dir / name).stat().st_mode) == 0o600, name


def test_credentials_in_events_are_redacted_before_writing(audit_dir: Path, log_keys: KeyringLogKeys) -> None:
    key_hex = os.urandom(32).hex()
    log = AuditLog.open(audit_dir, log_keys)
    stored = log.append(event(details={"password": "hunter2", "record": key_hex, "key_id": "00ff00ff00ff00ff"}))
    log.close()
    assert stored.details == {"password": "[redacted]", "record": "[redacted]", "key_id": "00ff00ff00ff00ff"}


def test_a_damaged_checkpoint_slot_is_reported_then_repaired(audit_dir: Path, log_keys: KeyringLogKeys) -> None:
    log = AuditLog.open(audit_dir, log_keys)
    for i in range(3):
        log.append(event(i))
    log.close()
    path = audit_dir / CHECKPOINT_NAME
    data = bytearray(path.read_bytes())
    data[(3 % 2) * 512 + 40] ^= 0x01  # the slot written last (count 3), as a crash mid-write would leave it
    path.write_bytes(bytes(data))
    found = verify_log(audit_dir, log_keys, SealedCodec(log_keys))
    assert not found.ok and found.damaged_slot and found.checkpoint_count == 2
    log = AuditLog.open(audit_dir, log_keys)
    assert [e.action for e in log.events()][-1] == "checkpoint_repaired"
    log.close()
    assert verify(audit_dir, log_keys) == []


def test_a_damaged_slot_does_not_hide_truncation(audit_dir: Path, log_keys: KeyringLogKeys) -> None:
    log = AuditLog.open(audit_dir, log_keys)
    for i in range(4):
        log.append(event(i))
    log.close()
    path = audit_dir / CHECKPOINT_NAME
    data = bytearray(path.read_bytes())
    data[0 * 512 + 40] ^= 0x01  # damage the newest slot (count 4)
    path.write_bytes(bytes(data))
    lines = (audit_dir / LOG_NAME).read_bytes().splitlines(keepends=True)
    (audit_dir / LOG_NAME).write_bytes(b"".join(lines[:3]))  # header + 2 entries: below the intact slot (3)
    assert ("truncated", 2) in verify(audit_dir, log_keys)
    with pytest.raises(AuditLogTampered):
        AuditLog.open(audit_dir, log_keys)
