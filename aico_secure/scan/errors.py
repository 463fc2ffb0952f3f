"""Errors of ``aico-secure scan`` that stop it before any scanner runs (exit 2, one line)."""

from __future__ import annotations


class ScanError(Exception):
    """Bad input to the scan as a whole: a missing or unreadable tree, an unknown format, an unusable option."""
