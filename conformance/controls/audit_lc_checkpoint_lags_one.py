"""The audit checkpoint (and rollback anchor) is moved before the new entry is counted, so it always names the
entry before the newest: cutting the newest entry off leaves a log that still verifies."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from aico_secure.audit import record
from aico_secure.audit.chain import EntryLine, entry_mac, genesis
from aico_secure.audit.errors import AuditError, AuditLogTampered
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.log import AuditLog, _write_all
from aico_secure.audit.trail import AuditTrail
from aico_secure.reference.audit import Clock, ReferenceAudit, log_keys
from aico_secure.target import KeySession, Target
from aico_secure.target.audit import AnomalyThresholds
from aico_secure.target.errors import IntegrityViolation

from ._base import reference_with

BREAKS = ("AICO-AUD-003",)


class LaggingCheckpointLog(AuditLog):
    def append(self, event: AuditEvent) -> AuditEvent:
        record.validate(event)
        stamped = event.timestamp if event.timestamp is not None else float(self._clock())
        stored = self._redactor(replace(event, timestamp=stamped))
        plaintext = record.to_bytes(stored)
        with self._mutex:
            fd = self._writable()
            seq = self._seq + 1
            key = self._keys.mac_key()
            prev = self._head if seq > 1 else genesis(key, self._log_id)
            body = self._codec.encode(plaintext, self._log_id, seq)
            mac = entry_mac(key, self._log_id, seq, prev, body)
            line = EntryLine(seq, key.key_id, prev, body, mac).encode()
            _write_all(fd, line)
            if self._durable:
                os.fsync(fd)
            self._write_checkpoint()  # the defect: still the previous entry's count and head
            self._seq, self._head, self._size = seq, mac, self._size + len(line)
        return stored


class LaggingCheckpointAudit(ReferenceAudit):
    def open(self, session: KeySession, directory: Path, *, clock: Clock | None = None,
             thresholds: AnomalyThresholds | None = None) -> AuditTrail:
        keys = log_keys(session)
        monitor = self.monitor(thresholds)
        try:
            log = LaggingCheckpointLog.open(Path(directory), keys, codec=self.codec(keys), durable=self.durable,
                                            clock=clock or time.time, redactor=self.redactor(),
                                            anchor=self.anchor(session))
        except (AuditLogTampered, AuditError) as exc:
            raise IntegrityViolation(str(exc)) from None
        return self.make_trail(log, monitor, session)


def build() -> Target:
    return reference_with("audit checkpoint one entry behind", audit=LaggingCheckpointAudit())
