"""What the log's redaction removes and what it leaves alone."""

from __future__ import annotations

import base64
import random

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.audit.redact import REDACTED, credential_name, redact, scrub_text
from aico_secure.sensitive import SecretBytes


@pytest.mark.parametrize("name", ["password", "new_password", "Passphrase", "api_token", "refresh-token",
                                  "secret", "client_secret", "key", "master_key", "data.key", "authorization",
                                  "cookie", "credentials"])
def test_credential_names(name: str) -> None:
    assert credential_name(name)


@pytest.mark.parametrize("name", ["key_id", "keyId", "key-ids", "keys", "monkey", "record", "purpose", "actor",
                                  "subject", "turkey_count"])
def test_ordinary_names(name: str) -> None:
    assert not credential_name(name)


_RANDOM = random.Random(2026)  # fixed, so parallel workers collect the same test ids
_KEY, _SHORT, _TOKEN, _BEARER = (_RANDOM.randbytes(n) for n in (32, 16, 32, 40))


@pytest.mark.parametrize("value", [
    _KEY.hex(), _SHORT.hex().upper(), base64.b64encode(_KEY).decode(),
    base64.urlsafe_b64encode(_TOKEN).decode().rstrip("="), "Bearer " + base64.urlsafe_b64encode(_BEARER).decode(),
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLWJ5dGVz",
])
def test_token_shaped_text_is_scrubbed(value: str) -> None:
    assert REDACTED in scrub_text(value)
    assert value.split()[-1] not in scrub_text(value)


@pytest.mark.parametrize("value", ["conversation_summaries_2024_archive_collection", "user-1", "198.51.100.7",
                                   "plugin.weather", "0123456789abcdef", "aico_secure.reference.build",
                                   "notes:read"])
def test_identifiers_are_kept(value: str) -> None:
    assert scrub_text(value) == value


def test_redact_keeps_the_event_and_replaces_only_credentials() -> None:
    event = AuditEvent(category="auth", action="login", actor="198.51.100.7", result="failure", subject="user-1",
                       details={"password": "pw", "attempts": 3, "ok": False, "blob": SecretBytes(b"k" * 32),
                                "raw": b"bytes", "ratio": 0.5})  # type: ignore[dict-item]
    out = redact(event)
    assert (out.category, out.action, out.actor, out.subject) == ("auth", "login", "198.51.100.7", "user-1")
    assert out.details["password"] == REDACTED
    assert out.details["attempts"] == 3 and out.details["ok"] is False and out.details["ratio"] == 0.5
    assert str(out.details["blob"]).startswith(REDACTED) and str(out.details["raw"]).startswith(REDACTED)
