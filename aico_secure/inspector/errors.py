"""Typed errors of the inspector: the CLI turns each into a one-line message and exit 2.

They subclass ``ValueError`` where the first version raised ``ValueError`` so old callers keep working. No
message ever carries key bytes: keys are named, never shown.
"""

from __future__ import annotations

from aico_secure.errors import AicoSecureError


class InspectorError(AicoSecureError):
    """Root of the inspector's refusals."""


class NothingToFind(InspectorError, ValueError):
    """No canary, vector or key was given: a scan for nothing would report a meaningless "clean"."""


class BadNeedle(InspectorError, ValueError):
    """A canary, vector or key is unusable (too short to be distinctive, malformed, not finite)."""


class BadRoot(InspectorError):
    """The directory to inspect does not exist or is not a directory."""


class WorkloadError(InspectorError):
    """The canary workload could not run: the directory is not empty, or a build broke its contract."""
