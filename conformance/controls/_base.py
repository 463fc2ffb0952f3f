"""Shared scaffolding for negative controls: the reference target with one capability swapped."""

from __future__ import annotations

import dataclasses
from typing import Any

from aico_secure.reference import build as reference_build
from aico_secure.target import Target


def reference_with(name: str, **capabilities: Any) -> Target:
    """The reference build, renamed, with the given capabilities replaced."""
    return dataclasses.replace(reference_build(), name=f"negative control: {name}", **capabilities)
