"""The capability contract for the API gateway (issue 6)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class GatewayCapability(Protocol):
    """Filled in by the issue that builds this capability; until then no build can offer it."""
