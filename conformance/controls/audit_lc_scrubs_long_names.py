"""An over-eager scrubber: any run of 24 or more name characters (letters, digits, '_', '.', '-', '/') counts as
a possible key and is replaced, so long plugin ids, category and record names are lost from the log, and so is
every number with a fraction ("it could be a timing side channel"). Who accessed what is no longer recorded."""

from __future__ import annotations

import re
from dataclasses import replace

from aico_secure.audit.events import AuditEvent
from aico_secure.audit.log import Redactor
from aico_secure.audit.redact import REDACTED, redact
from aico_secure.reference.audit import ReferenceAudit
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-AUD-001",)

_LONG = re.compile(r"[\w./\-]{24,}")


def _scrub(text: str) -> str:
    return _LONG.sub(REDACTED, text)


def eager(event: AuditEvent) -> AuditEvent:
    event = redact(event)
    details = {k: (REDACTED if isinstance(v, float) else _scrub(v) if isinstance(v, str) else v)
               for k, v in event.details.items()}
    return replace(event, actor=_scrub(event.actor), subject=_scrub(event.subject), details=details)


class EagerAudit(ReferenceAudit):
    def redactor(self) -> Redactor:
        return eager


def build() -> Target:
    return reference_with("the audit scrubber erases long names", audit=EagerAudit())
