"""A project's aico-secure settings, read from ``[tool.aico-secure]`` in its ``pyproject.toml``.

Release pipelines gate on ``aico-secure conform``, ``inspect`` and ``scan``; keeping their options in the
project file instead of shell scripts puts them under review with the code. ``project`` finds and validates the
table, ``layering`` lays it between the command line and the built-in defaults, ``cache`` says where cached
state (Hypothesis's example database) lives, and ``show`` prints what a command would run with
(``aico-secure config show``). docs/configuration.md is the user's page.

This package is imported by the command line before any command runs, so it imports nothing heavy at the top.
"""

from __future__ import annotations

from aico_secure.config.errors import ConfigError

__all__ = ["ConfigError"]
