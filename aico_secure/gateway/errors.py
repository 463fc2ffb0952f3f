"""Typed exceptions of the gateway. Messages say what was refused and why, never a password, verifier or token."""

from __future__ import annotations

from aico_secure.errors import AicoSecureError


class GatewayError(AicoSecureError):
    """Root of the gateway's deliberate refusals."""


class SrpError(GatewayError):
    """An SRP value is out of range or a session was misused; the login attempt is aborted."""


class TokenRejected(GatewayError):
    """A token failed authentication, is of the wrong type or audience, expired, or was revoked."""


class RefreshReplayed(TokenRejected):
    """A spent refresh token was shown again; its whole session has been revoked. ``subject`` is the user."""

    def __init__(self, subject: str) -> None:
        super().__init__("refresh token already used; the session is revoked")
        self.subject = subject


class GatewayStateError(GatewayError):
    """The gateway's sealed state on disk is missing a part, fails authentication or is malformed."""


class UnknownUserError(GatewayError):
    """An operation named a user that is not enrolled."""


class UserExistsError(GatewayError):
    """Enrolment refused: the user name is taken."""


class GatewayStartError(GatewayError):
    """The HTTPS server did not come up (port, certificate or TLS configuration)."""
