"""The audit event vocabulary every component speaks, and the sink it speaks to.

Defined before the log itself so stores, the bus, the gateway and consent can all emit events without
depending on how the log stores them. An event never carries a password, key or token: ``details`` holds
identifiers and counts only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

Category = Literal["data_access", "crypto", "key", "auth", "consent", "alert", "system"]
Result = Literal["success", "failure", "denied"]


@dataclass(frozen=True)
class AuditEvent:
    category: Category
    action: str  # e.g. "read", "write", "unlock", "rotate_dek", "login", "grant", "revoke", "auth_failures"
    actor: str  # who: a component id, user id or client address; never a credential
    result: Result = "success"
    subject: str = ""  # what: a store, data category or record id; never record contents
    details: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    timestamp: float | None = None  # set by the sink's clock when None


@runtime_checkable
class AuditSink(Protocol):
    def record(self, event: AuditEvent) -> None: ...


class NullAuditSink:
    """For components used outside the reference build's wiring (e.g. a unit test of one store)."""

    def record(self, event: AuditEvent) -> None:
        return None
