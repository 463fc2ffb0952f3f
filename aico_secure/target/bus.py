"""The capability contract for the CurveZMQ message bus (issue 5)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class BusCapability(Protocol):
    """Filled in by the issue that builds this capability; until then no build can offer it."""
