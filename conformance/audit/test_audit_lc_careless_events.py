"""AICO-AUD-002 for what other components hand the log: no password, key or token ends up in it.

Components are meant to report identifiers and counts, but the log is where every one of them writes, so a
careless one (a debug detail named ``password``, a key or token pasted into a message) must not turn it into a
store of credentials. The events below carry credentials the two ways a careless component passes them: under
a field name that says what it is, and as key- or token-shaped text (hex, base64, base64url, a JWT) inside
ordinary text. Each event must still be recorded; the credential must not be in any file of the log nor in
any event read back.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.conform.checks import find_leaks, text_contains_secret
from aico_secure.target import KeySession
from aico_secure.target.audit import AuditCapability


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def recorded_without_secrets(audit: AuditCapability, key_session: KeySession, audit_dir: Path,
                             clock: Callable[[], float], read_back: Callable[[Path], list[AuditEvent]],
                             events: list[AuditEvent], secret_values: dict[str, bytes],
                             evidence: Callable[[str, object], None]) -> None:
    trail = audit.open(key_session, audit_dir, clock=clock)
    for event in events:
        trail.record(event)
    trail.close()
    back = read_back(audit_dir)
    actions = {e.action for e in back}
    missing = [e.action for e in events if e.action not in actions]
    assert not missing, f"events carrying credentials were not recorded at all: {missing}"
    leaked = text_contains_secret("\n".join(repr(e) for e in back), secret_values)
    assert not leaked, f"events read back from the audit log hold credentials: {sorted(leaked)}"
    canaries = [v.decode() for v in secret_values.values() if v.isascii()]
    result = find_leaks(audit_dir, canaries=canaries, secrets=secret_values)
    evidence("files scanned", result.files_read)
    evidence("credentials searched", len(secret_values))
    assert result.files_read > 0, "the audit directory is empty: nothing was checked"
    assert not result.findings, f"credentials in the audit log files: {result.findings[:5]}"


@pytest.mark.requirement("AICO-AUD-002")
def test_credentials_under_credential_names_are_not_recorded(
        audit: AuditCapability, key_session: KeySession, audit_dir: Path, password: str,
        clock: Callable[[], float], read_back: Callable[[Path], list[AuditEvent]],
        evidence: Callable[[str, object], None]) -> None:
    new_password = password + "-new"
    token = "tk-" + secrets.token_urlsafe(12)
    api_key = "ak-" + secrets.token_urlsafe(12)
    session_cookie = "sc-" + secrets.token_urlsafe(12)
    events = [
        AuditEvent(category="auth", action="login", actor="192.0.2.10", subject="user-1", result="failure",
                   details={"password": password, "attempt": 2}),
        AuditEvent(category="key", action="change_password", actor="user-1", subject="master",
                   details={"old_password": password, "newPassword": new_password}),
        AuditEvent(category="auth", action="refresh", actor="192.0.2.10", subject="user-1",
                   details={"refresh_token": token, "Authorization": f"Bearer {token}"}),
        AuditEvent(category="system", action="plugin_configured", actor="plugin.weather", subject="weather",
                   details={"api_key": api_key, "secret": api_key, "cookie": session_cookie}),
    ]
    recorded_without_secrets(audit, key_session, audit_dir, clock, read_back, events,
                             {"password": password.encode(), "new password": new_password.encode(),
                              "token": token.encode(), "api key": api_key.encode(),
                              "cookie": session_cookie.encode()}, evidence)


@pytest.mark.requirement("AICO-AUD-002")
def test_key_and_token_shaped_text_is_not_recorded(
        audit: AuditCapability, key_session: KeySession, audit_dir: Path, clock: Callable[[], float],
        read_back: Callable[[Path], list[AuditEvent]], evidence: Callable[[str, object], None]) -> None:
    hex_key, b64_key, url_key = (secrets.token_bytes(32) for _ in range(3))
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    claims = b64url(b'{"sub":"user-1","exp":4102444800,"jti":"' + secrets.token_hex(8).encode() + b'"}')
    jwt = f"{header}.{claims}.{b64url(secrets.token_bytes(32))}"
    events = [
        AuditEvent(category="key", action="rotate_data_key", actor="user-1", subject="libsql",
                   details={"note": f"new data key {hex_key.hex()} installed"}),
        AuditEvent(category="crypto", action="encrypt", actor="user-1",
                   subject=f"sealed with {base64.b64encode(b64_key).decode()}"),
        AuditEvent(category="system", action="debug_dump", actor=f"component {b64url(url_key)}", subject="bus"),
        AuditEvent(category="auth", action="token_check", actor="192.0.2.11", subject="user-1",
                   details={"message": f"rejected {jwt} (expired)"}),
    ]
    recorded_without_secrets(audit, key_session, audit_dir, clock, read_back, events,
                             {"hex key": hex_key, "base64 key": b64_key, "base64url key": url_key,
                              "jwt": jwt.encode()}, evidence)
