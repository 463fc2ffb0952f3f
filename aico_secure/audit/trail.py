"""The audit trail a build wires in: the log, the anomaly monitor on every recorded event, and the audited key
session. It is the ``AuditSink`` every component (consent, gateway, bus) is given.

Why alerts are appended inside ``record``: an alert exists only once it is in the tamper-evident log; raising
it anywhere else (a side file, memory) would let it be lost or erased without trace.
"""

from __future__ import annotations

import threading

from aico_secure.audit.anomaly import AnomalyMonitor
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.keysession import AuditedKeySession
from aico_secure.audit.log import AuditLog
from aico_secure.target.keys import KeySession


class AuditTrail:
    def __init__(self, log: AuditLog, monitor: AnomalyMonitor, session: KeySession) -> None:
        self.log = log
        self._monitor = monitor
        self._session = AuditedKeySession(session, self)
        self._mutex = threading.RLock()

    def __repr__(self) -> str:
        return f"AuditTrail({self.log!r})"

    @property
    def session(self) -> AuditedKeySession:
        return self._session

    def record(self, event: AuditEvent) -> None:
        with self._mutex:  # an event and the alerts it raises stay next to each other in the log
            stored = self.log.append(event)
            for alert in self._monitor.observe(stored):
                self.log.append(alert)

    def events(self) -> list[AuditEvent]:
        return self.log.events()

    def alerts(self) -> list[AuditEvent]:
        return [e for e in self.events() if e.category == "alert"]

    def close(self) -> None:
        self.log.close()
