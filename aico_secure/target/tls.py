"""The capability contract for TLS 1.3 device links and sync (issue 5)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class TlsCapability(Protocol):
    """Filled in by the issue that builds this capability; until then no build can offer it."""
