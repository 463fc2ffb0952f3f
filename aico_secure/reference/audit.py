"""The reference build's audit capability: a thin adapter from ``aico_secure.audit`` to the contract."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from aico_secure.audit.anchor import KeyringAnchor, RollbackAnchor
from aico_secure.audit.anomaly import AnomalyMonitor
from aico_secure.audit.codec import EntryCodec, SealedCodec
from aico_secure.audit.errors import AuditError, AuditLogTampered
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.keysession import AuditedKeySession
from aico_secure.audit.layout import log_path
from aico_secure.audit.log import AuditLog, Redactor
from aico_secure.audit.logkeys import KeyringLogKeys, LogKeys
from aico_secure.audit.redact import redact
from aico_secure.audit.trail import AuditTrail
from aico_secure.audit.verify import entry_spans as spans_of
from aico_secure.audit.verify import verify_log
from aico_secure.reference.keys import ReferenceKeySession
from aico_secure.target.audit import AnomalyThresholds, AuditProblem, AuditReport
from aico_secure.target.errors import ContractError, IntegrityViolation
from aico_secure.target.keys import KeySession

Clock = Callable[[], float]


def _reference_session(session: KeySession) -> ReferenceKeySession:
    while isinstance(session, AuditedKeySession):
        session = session.inner
    if not isinstance(session, ReferenceKeySession):
        raise ContractError(f"the reference audit log needs a reference key session, not {type(session).__name__}")
    return session


def log_keys(session: KeySession) -> LogKeys:
    """The audit log's keys from a reference key session (audited or not)."""
    return KeyringLogKeys(_reference_session(session).keyring)


def log_anchor(session: KeySession) -> RollbackAnchor:
    """The rollback anchor: counters sealed in the same keyring, which does not live in the log directory."""
    return KeyringAnchor(_reference_session(session).keyring)


class ReferenceTrail(AuditTrail):
    """The trail, with the implementation's errors mapped onto the contract's."""

    def record(self, event: AuditEvent) -> None:
        try:
            super().record(event)
        except AuditLogTampered as exc:
            raise IntegrityViolation(str(exc)) from None

    def events(self) -> list[AuditEvent]:
        try:
            return super().events()
        except AuditLogTampered as exc:
            raise IntegrityViolation(str(exc)) from None


class ReferenceAudit:
    """Audit logs live in ``<directory>/audit.log`` with ``audit.checkpoint`` beside it.

    ``durable`` fsyncs every append (the default, and what a real deployment wants); the suite's speed does not
    depend on it. Subclasses (negative controls, the benchmark) swap the codec, the redactor or the monitor.
    """

    def __init__(self, *, durable: bool = True) -> None:
        self.durable = durable

    def codec(self, keys: LogKeys) -> EntryCodec:
        return SealedCodec(keys)

    def anchor(self, session: KeySession) -> RollbackAnchor | None:
        return log_anchor(session)

    def redactor(self) -> Redactor:
        return redact

    def monitor(self, thresholds: AnomalyThresholds | None) -> AnomalyMonitor:
        return AnomalyMonitor.from_thresholds(thresholds)

    def make_trail(self, log: AuditLog, monitor: AnomalyMonitor, session: KeySession) -> AuditTrail:
        return ReferenceTrail(log, monitor, session)

    def open(self, session: KeySession, directory: Path, *, clock: Clock | None = None,
             thresholds: AnomalyThresholds | None = None) -> AuditTrail:
        keys = log_keys(session)
        monitor = self.monitor(thresholds)
        try:
            log = AuditLog.open(Path(directory), keys, codec=self.codec(keys), durable=self.durable,
                                clock=clock or time.time, redactor=self.redactor(), anchor=self.anchor(session))
        except AuditLogTampered as exc:
            raise IntegrityViolation(str(exc)) from None
        except AuditError as exc:
            raise IntegrityViolation(str(exc)) from None
        return self.make_trail(log, monitor, session)

    def verify(self, session: KeySession, directory: Path) -> AuditReport:
        keys = log_keys(session)
        found = verify_log(Path(directory), keys, self.codec(keys), anchor=self.anchor(session),
                           keep_events=False)
        problems = tuple(AuditProblem(p.kind, p.position, p.detail) for p in found.problems)
        return AuditReport(ok=found.ok, entries=found.authentic, problems=problems)

    def entry_spans(self, directory: Path) -> list[tuple[Path, int, int]]:
        path = log_path(Path(directory))
        return [(path, start, end) for start, end in spans_of(Path(directory))]
