"""Audit logging and anomaly detection (issue 6). ``events`` is the shared vocabulary."""
