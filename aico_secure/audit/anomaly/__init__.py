"""Anomaly detection over the audit event stream: one detector per pattern, composed by ``AnomalyMonitor``.

Detectors see every event as it is recorded and return alerts, which are ``AuditEvent``\\ s (category
``alert``) recorded in the same log. Thresholds come from ``aico_secure.target.audit.AnomalyThresholds``.
"""

from aico_secure.audit.anomaly.monitor import AnomalyMonitor, detectors_for

__all__ = ["AnomalyMonitor", "detectors_for"]
