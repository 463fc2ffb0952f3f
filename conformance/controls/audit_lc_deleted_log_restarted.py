"""Opening a log directory whose log file was deleted starts a new, empty log there.

The checkpoint left behind is taken for a stale leftover of an unfinished creation and cleared, so deleting
the log file erases the whole history without a trace: the next open succeeds and appends to a fresh log."""

from __future__ import annotations

import time
from pathlib import Path

from aico_secure.audit.anchor import RollbackAnchor
from aico_secure.audit.codec import EntryCodec
from aico_secure.audit.errors import AuditError, AuditLogTampered
from aico_secure.audit.layout import checkpoint_path, log_path
from aico_secure.audit.log import AuditLog, Clock, Redactor
from aico_secure.audit.logkeys import LogKeys
from aico_secure.audit.redact import redact
from aico_secure.audit.trail import AuditTrail
from aico_secure.reference.audit import ReferenceAudit, log_keys
from aico_secure.target import KeySession, Target
from aico_secure.target.audit import AnomalyThresholds
from aico_secure.target.audit import Clock as TargetClock
from aico_secure.target.errors import IntegrityViolation

from ._base import reference_with

BREAKS = ("AICO-AUD-003",)


class RestartingLog(AuditLog):
    @classmethod
    def open(cls, directory: Path, keys: LogKeys, *, codec: EntryCodec | None = None, durable: bool = True,
             clock: Clock = time.time, redactor: Redactor = redact,
             anchor: RollbackAnchor | None = None) -> AuditLog:
        directory = Path(directory)
        if not log_path(directory).exists():
            checkpoint_path(directory).unlink(missing_ok=True)  # the defect: "a leftover of a failed create"
        return super().open(directory, keys, codec=codec, durable=durable, clock=clock, redactor=redactor,
                            anchor=anchor)


class RestartingAudit(ReferenceAudit):
    def open(self, session: KeySession, directory: Path, *, clock: TargetClock | None = None,
             thresholds: AnomalyThresholds | None = None) -> AuditTrail:
        keys = log_keys(session)
        monitor = self.monitor(thresholds)
        try:
            log = RestartingLog.open(Path(directory), keys, codec=self.codec(keys), durable=self.durable,
                                     clock=clock or time.time, redactor=self.redactor(),
                                     anchor=self.anchor(session))
        except (AuditLogTampered, AuditError) as exc:
            raise IntegrityViolation(str(exc)) from None
        return self.make_trail(log, monitor, session)


def build() -> Target:
    return reference_with("deleted audit log restarted empty", audit=RestartingAudit())
