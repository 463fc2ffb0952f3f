"""Fixtures for the inspector's detection tests: fresh canaries and a one-call inspection."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.inspector import InspectionResult, inspect_tree


@pytest.fixture
def canary() -> str:
    """Unique per test and non-ASCII, so UTF-16, JSON-escaped and URL-encoded forms all differ from UTF-8."""
    return f"cnry-{secrets.token_hex(6)}-Grüße ☃ diary"


@pytest.fixture
def key() -> bytes:
    return os.urandom(32)


Inspect = Callable[..., InspectionResult]


@pytest.fixture
def inspect(tmp_path: Path) -> Inspect:
    def run(root: Path | None = None, **needles: object) -> InspectionResult:
        return inspect_tree(root or tmp_path, **needles)  # type: ignore[arg-type]

    return run


def hits(result: InspectionResult, label_prefix: str = "") -> list[tuple[str, str, str]]:
    """(file name, encoding, container) of each finding whose label starts with ``label_prefix``."""
    return [(Path(f.path).name, f.encoding, f.container) for f in result.findings if f.label.startswith(label_prefix)]
