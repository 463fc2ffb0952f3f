"""The log's last line of defence against credentials: what a careless component passes is scrubbed.

Events are meant to carry identifiers and counts only (see ``events.py``), but the log is the one place every
component writes to, so it refuses to be the place a password or key ends up. Before an event is written:

* detail values under names that denote credentials (``password``, ``secret``, ``token``, ``key`` but not
  ``key_id``, ...) are replaced;
* any text field that looks like key material or a bearer token (a long unbroken run of hex/base64/base64url
  characters, or a JWT) is replaced;
* values of any type other than str/int/float/bool (bytes, ``SecretBytes``...) are replaced by their type name.

Redaction changes what is stored, never whether the event is stored: the event is still recorded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace

from aico_secure.audit.events import AuditEvent

REDACTED = "[redacted]"
_CREDENTIAL_NAME = re.compile(
    r"(pass(word|phrase|wd)?|pwd|secret|token|credential|private|cookie|authorization|bearer|"
    r"(^|[_\-.])key($|[_\-.](?!id$)))",
    re.IGNORECASE,
)
_ID_NAME = re.compile(r"(^|[_\-.])key[_\-.]?ids?$", re.IGNORECASE)
# 32 random bytes are 43 characters in base64 and 64 in hex. A run of 32+ such characters is key- or
# token-shaped when it is all hex, or mixes upper case, lower case and digits the way random base64 does
# (snake_case identifiers such as "conversation_summaries_2024_archive" are left alone).
_RUN = re.compile(r"[A-Za-z0-9+/_\-]{32,}={0,2}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*")
_HEX = re.compile(r"[0-9a-fA-F]+")


def credential_name(name: str) -> bool:
    return bool(_CREDENTIAL_NAME.search(name)) and not _ID_NAME.search(name)


def _token_shaped(run: str) -> bool:
    core = run.rstrip("=")
    if _HEX.fullmatch(core):
        return True
    return any(c.isupper() for c in core) and any(c.islower() for c in core) and any(c.isdigit() for c in core)


def scrub_text(value: str) -> str:
    value = _JWT.sub(REDACTED, value)
    return _RUN.sub(lambda m: REDACTED if _token_shaped(m.group(0)) else m.group(0), value)


def _scrub_value(name: str, value: object) -> str | int | float | bool:
    if credential_name(name):
        return REDACTED
    if isinstance(value, bool) or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    return f"{REDACTED} {type(value).__name__}"


def redact(event: AuditEvent) -> AuditEvent:
    """``event`` with credentials and credential-shaped values replaced."""
    details: Mapping[str, str | int | float | bool] = {
        str(k): _scrub_value(str(k), v) for k, v in dict(event.details).items()
    }
    return replace(event, action=scrub_text(event.action), actor=scrub_text(event.actor),
                   subject=scrub_text(event.subject), details=details)


def no_redaction(event: AuditEvent) -> AuditEvent:
    """For negative controls that show what the suite catches when the defence is missing."""
    return event
