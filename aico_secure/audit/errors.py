"""Typed failures of the audit log. Messages name the file and the problem, never an event's contents."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aico_secure.errors import AicoSecureError

if TYPE_CHECKING:
    from aico_secure.audit.verify import Verification


class AuditError(AicoSecureError):
    """Root of the audit log's errors."""


class InvalidAuditEvent(AuditError, ValueError):
    """Something that is not a well-formed ``AuditEvent`` was offered to the log; nothing was written."""


class AuditLogBusy(AuditError):
    """Another writer holds the log's lock: two writers would fork the hash chain."""


class AuditLogUnreadable(AuditError):
    """The log directory, header or keys cannot be read at all."""


class AuditLogTampered(AuditError):
    """An existing log failed verification; the writer refuses to append to it."""

    def __init__(self, message: str, verification: Verification) -> None:
        super().__init__(message)
        self.verification = verification


class AuditWriteError(AuditError):
    """An append could not be completed; the log was rolled back to its last complete entry."""
