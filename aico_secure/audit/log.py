"""The append-only audit log writer: one process appends, every entry is sealed, MACed and chained, and the
checkpoint is moved forward after every append.

Why it verifies the whole log before appending: appending to a log that was tampered with would bury the
evidence under fresh, valid entries, so ``open`` refuses (``AuditLogTampered``) and leaves the files as found.
Why a lock: two writers would both write entry ``n+1`` and fork the chain. Why a rollback on write errors: a
half-written line left in the middle of the log would read as tampering forever after.

Crash behaviour: an entry is appended (and fsynced when ``durable``) before the checkpoint moves, so a crash
leaves at most one complete entry beyond the checkpoint (re-anchored on the next open), one partial line at
the very end beyond the checkpoint, or one damaged checkpoint slot. The last two are reported by ``verify``
(bytes did change) and repaired by the next ``open``, which records the repair in the log as a ``system``
event, so the evidence of what happened stays.

Rollback anchor (``anchor.py``), when given: after the checkpoint moves, the keyring's counter for this log is
advanced to the same count, and only then is the append acknowledged. Checkpoint first, anchor second: a crash
between them leaves the anchor one behind, which verifies and is caught up by the next ``open``; the other
order would leave the anchor ahead, indistinguishable from a rollback. A log whose checkpoint is behind its
anchor is refused like any other tampered log.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from aico_secure.audit import checkpoint as cp
from aico_secure.audit import record
from aico_secure.audit.anchor import AnchorError, RollbackAnchor
from aico_secure.audit.chain import LOG_ID_BYTES, EntryLine, Header, entry_mac, genesis, header_mac
from aico_secure.audit.codec import EntryCodec, SealedCodec
from aico_secure.audit.errors import AuditError, AuditLogBusy, AuditLogTampered, AuditLogUnreadable, AuditWriteError
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import checkpoint_path, lock_path, log_path
from aico_secure.audit.logkeys import LogKeys
from aico_secure.audit.redact import redact
from aico_secure.audit.verify import Verification, verify_log

Clock = Callable[[], float]
Redactor = Callable[[AuditEvent], AuditEvent]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _lock(directory: Path) -> int:
    fd = os.open(lock_path(directory), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise AuditLogBusy(f"the audit log in {directory} is open in another writer") from None
    return fd


class AuditLog:
    """Open with ``AuditLog.open``; ``append`` events; ``close`` when done."""

    def __init__(self, directory: Path, keys: LogKeys, codec: EntryCodec, *, durable: bool, clock: Clock,
                 redactor: Redactor, lock_fd: int, log_id: bytes, anchor: RollbackAnchor | None = None) -> None:
        self.directory = directory
        self._keys = keys
        self._codec = codec
        self._durable = durable
        self._clock = clock
        self._redactor = redactor
        self._lock_fd: int | None = lock_fd
        self._log_id = log_id
        self._anchor = anchor
        self._checkpoints: cp.CheckpointWriter | None = None
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._seq = 0
        self._head = b""
        self._size = 0
        self._broken = False

    def __repr__(self) -> str:
        return f"AuditLog(directory={str(self.directory)!r}, entries={self._seq}, codec={self._codec.name!r})"

    # ---- opening ---------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, directory: Path, keys: LogKeys, *, codec: EntryCodec | None = None, durable: bool = True,
             clock: Clock = time.time, redactor: Redactor = redact,
             anchor: RollbackAnchor | None = None) -> AuditLog:
        """Create the log in ``directory`` or resume the one there after verifying it completely (against
        ``anchor`` too, when given: a rolled-back log is refused)."""
        directory = Path(directory)
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise AuditLogUnreadable(f"{directory} is not a directory") from None
        lock_fd = _lock(directory)
        codec = codec or SealedCodec(keys)
        try:
            # The log file is written before its first checkpoint, so a checkpoint without its log is a deleted
            # log, not an unfinished one: resuming it refuses it instead of starting an empty log in its place.
            if not any(path.exists() for path in (log_path(directory), checkpoint_path(directory))):
                log = cls._create(directory, keys, codec, durable, clock, redactor, lock_fd, anchor)
            else:
                log = cls._resume(directory, keys, codec, durable, clock, redactor, lock_fd, anchor)
        except BaseException:
            os.close(lock_fd)
            raise
        return log

    @classmethod
    def _create(cls, directory: Path, keys: LogKeys, codec: EntryCodec, durable: bool, clock: Clock,
                redactor: Redactor, lock_fd: int, anchor: RollbackAnchor | None) -> AuditLog:
        log_id = os.urandom(LOG_ID_BYTES)
        key = keys.mac_key()
        fd = os.open(log_path(directory), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            header = Header(log_id, key.key_id, header_mac(key, log_id)).encode()
            _write_all(fd, header)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        log = cls(directory, keys, codec, durable=durable, clock=clock, redactor=redactor, lock_fd=lock_fd,
                  log_id=log_id, anchor=anchor)
        log._fd, log._size = fd, len(header)
        log._checkpoints = cp.CheckpointWriter(checkpoint_path(directory), durable=durable)
        log._write_checkpoint(reset=True)
        return log

    @classmethod
    def _resume(cls, directory: Path, keys: LogKeys, codec: EntryCodec, durable: bool, clock: Clock,
                redactor: Redactor, lock_fd: int, anchor: RollbackAnchor | None) -> AuditLog:
        found = verify_log(directory, keys, codec, anchor=anchor, keep_events=False)
        if found.unreadable is not None:
            raise AuditLogUnreadable(f"the audit log in {directory} cannot be opened: {found.unreadable}")
        # States a crash can leave, which the writer repairs (and records in the log) rather than refuses: a
        # log created but never checkpointed, a checkpoint slot damaged mid-write, and a partial last line
        # after the checkpoint. Everything else is refused.
        torn = [p for p in found.problems if p.kind == "inserted" and p.offset == found.torn_tail]
        slot = [p for p in found.problems if p.kind == "unreadable" and found.damaged_slot and "slot" in p.detail]
        fresh = found.header_ok and found.lines == 0 and found.checkpoint_count is None
        if found.omitted or (len(found.problems) > len(torn) + len(slot)
                             and not (fresh and len(found.problems) == 1)):
            lines = "; ".join(found.describe()[:3])
            raise AuditLogTampered(f"the audit log in {directory} failed verification "
                                   f"({len(found.problems)} problem(s): {lines})", found)
        assert found.log_id is not None
        log = cls(directory, keys, codec, durable=durable, clock=clock, redactor=redactor, lock_fd=lock_fd,
                  log_id=found.log_id, anchor=anchor)
        fd = os.open(log_path(directory), os.O_WRONLY | os.O_APPEND)
        log._fd = fd
        if found.torn_tail is not None:
            os.ftruncate(fd, found.torn_tail)
            os.fsync(fd)
        log._size = os.fstat(fd).st_size
        if found.head is not None:
            log._seq, log._head = found.head
        log._checkpoints = cp.CheckpointWriter(checkpoint_path(directory), durable=durable)
        log._write_checkpoint(reset=True)
        if found.torn_tail is not None:
            log.append(AuditEvent(category="system", action="torn_tail_removed", actor="audit-log",
                                  details={"offset": found.torn_tail}))
        if slot or (fresh and found.checkpoint_count is None):
            log.append(AuditEvent(category="system", action="checkpoint_repaired", actor="audit-log",
                                  details={"entries": log._seq}))
        return log


    # ---- writing ---------------------------------------------------------------------------------------------
    def append(self, event: AuditEvent) -> AuditEvent:
        """Write ``event`` (credentials redacted, timestamp from the clock if unset) and return it as stored."""
        record.validate(event)
        stored = self._redactor(replace(event, timestamp=event.timestamp if event.timestamp is not None
                                        else float(self._clock())))
        record.validate(stored)
        plaintext = record.to_bytes(stored)
        with self._mutex:
            fd = self._writable()
            seq = self._seq + 1
            key = self._keys.mac_key()
            prev = self._head if seq > 1 else genesis(key, self._log_id)
            body = self._codec.encode(plaintext, self._log_id, seq)
            mac = entry_mac(key, self._log_id, seq, prev, body)
            line = EntryLine(seq, key.key_id, prev, body, mac).encode()
            try:
                _write_all(fd, line)
                if self._durable:
                    os.fsync(fd)
            except OSError as exc:
                self._roll_back(fd, exc)
            self._seq, self._head, self._size = seq, mac, self._size + len(line)
            self._write_checkpoint()
        return stored

    def _writable(self) -> int:
        if self._fd is None:
            raise AuditError(f"the audit log in {self.directory} is closed")
        if self._broken:
            raise AuditWriteError(f"the audit log in {self.directory} could not be rolled back after a failed "
                                  "write; reopen it to verify")
        return self._fd

    def _roll_back(self, fd: int, exc: OSError) -> None:
        try:
            os.ftruncate(fd, self._size)
        except OSError:
            self._broken = True
        raise AuditWriteError(f"appending to the audit log in {self.directory} failed ({exc.strerror})") from None

    def _write_checkpoint(self, *, reset: bool = False) -> None:
        key = self._keys.mac_key()
        head = self._head if self._seq else genesis(key, self._log_id)
        point = cp.Checkpoint.make(key, self._log_id, self._seq, head)
        assert self._checkpoints is not None
        try:
            if reset:
                self._checkpoints.reset(point)
            else:
                self._checkpoints.advance(point)
        except OSError as exc:
            raise AuditWriteError(f"the audit checkpoint in {self.directory} could not be written "
                                  f"({exc.strerror}); the entry itself was recorded") from None
        if self._anchor is not None:
            try:
                self._anchor.advance(self._log_id, self._seq)
            except AnchorError as exc:
                raise AuditWriteError(f"{exc} for the audit log in {self.directory}; the entry itself was "
                                      "recorded") from None

    # ---- reading ---------------------------------------------------------------------------------------------
    @property
    def entries(self) -> int:
        return self._seq

    def verify(self, *, keep_events: bool = False) -> Verification:
        with self._mutex:
            return verify_log(self.directory, self._keys, self._codec, anchor=self._anchor,
                              keep_events=keep_events)

    def events(self) -> list[AuditEvent]:
        """Every event, read back from disk and authenticated; ``AuditLogTampered`` if the log no longer
        verifies."""
        found = self.verify(keep_events=True)
        if not found.ok:
            raise AuditLogTampered(f"the audit log in {self.directory} no longer verifies", found)
        return found.events()

    def close(self) -> None:
        with self._mutex:
            if self._checkpoints is not None:
                self._checkpoints.close()
            for fd in (self._fd, self._lock_fd):
                if fd is not None:
                    os.close(fd)
            self._fd = self._lock_fd = self._checkpoints = None

