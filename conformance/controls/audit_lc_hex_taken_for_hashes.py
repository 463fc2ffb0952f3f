"""The audit log's scrubber leaves all-hex runs alone, taking them for content hashes and record ids.

A key a component pastes into a message in hex is written to the log as it is. Credential-named fields, JWTs
and base64-shaped runs are still scrubbed."""

from __future__ import annotations

from dataclasses import replace

from aico_secure.audit import redact as scrub
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.log import Redactor
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-AUD-002",)


def _base64_shaped(run: str) -> bool:
    core = run.rstrip("=")
    return any(c.isupper() for c in core) and any(c.islower() for c in core) and any(c.isdigit() for c in core)


def _text(value: str) -> str:
    value = scrub._JWT.sub(scrub.REDACTED, value)
    return scrub._RUN.sub(lambda m: scrub.REDACTED if _base64_shaped(m.group(0)) else m.group(0), value)


def _value(name: str, value: object) -> str | int | float | bool:
    if isinstance(value, str) and not scrub.credential_name(name):
        return _text(value)
    return scrub._scrub_value(name, value)


def hex_keeping_redact(event: AuditEvent) -> AuditEvent:
    details = {str(k): _value(str(k), v) for k, v in dict(event.details).items()}
    return replace(event, action=_text(event.action), actor=_text(event.actor), subject=_text(event.subject),
                   details=details)


class HexKeepingAudit(ReferenceAudit):
    def redactor(self) -> Redactor:
        return hex_keeping_redact


def build() -> Target:
    return reference_with("all-hex runs kept by the audit scrubber", audit=HexKeepingAudit())
