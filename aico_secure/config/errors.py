"""The one error of the configuration layer: printed as one line by the command line, exit 2."""

from __future__ import annotations


class ConfigError(ValueError):
    """The project's configuration cannot be used (unreadable, malformed, an unknown key, a wrong type)."""
