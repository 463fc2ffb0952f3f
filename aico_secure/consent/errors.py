"""Typed failures of consent and access control. Messages name the actor id, category and operation only."""

from __future__ import annotations

from aico_secure.errors import AicoSecureError


class ConsentError(AicoSecureError):
    """Root of the consent errors."""


class PermissionDenied(ConsentError):
    """Access or a consent change was refused. Nothing changed."""


class InvalidConsentRequest(ConsentError, ValueError):
    """A malformed request: unknown category or operation, bad actor id, lifetime not positive and finite."""


class ConsentStateCorrupt(ConsentError):
    """The stored grants do not authenticate with this keyring (edited, truncated, or from elsewhere)."""
