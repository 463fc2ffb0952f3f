"""Audit logging and anomaly detection. ``events`` is the shared vocabulary."""
