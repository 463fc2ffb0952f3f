"""Output formats of a scan, one module each behind ``interface.ScanFormat``."""
