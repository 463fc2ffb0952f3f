"""Exceptions a build's adapter raises so the suite can tell refusals apart from bugs.

An adapter maps its build's own exceptions onto these. The suite treats any *other* exception where a
refusal was expected as an error in the build, not as a pass.
"""

from __future__ import annotations


class ContractError(Exception):
    """Root of the refusals the conformance suite understands."""


class CapabilityMissing(ContractError):
    """The build does not implement a capability; its requirements are reported "not implemented"."""


class RejectedCredentials(ContractError):
    """A password, token or key was refused (wrong password, revoked token, unknown peer key)."""


class IntegrityViolation(ContractError):
    """Stored or received bytes failed authentication or are corrupt, truncated or from elsewhere."""


class AccessDenied(ContractError):
    """An operation was refused by access control (no consent, insufficient permission level)."""
