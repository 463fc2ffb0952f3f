"""The ciphertext-at-rest and key-leak inspector.

``inspect_tree`` is the API the conformance suite and the ``aico-secure inspect`` command share: give it a
directory and what must not be found there (text canaries, embedding canaries, key bytes), and it reports
every place it found one, in which encoding and inside which container, plus how many files and bytes it read
(a scan that read nothing is not clean). See docs/inspector.md.

``inspect_tree`` is imported on first use: it pulls in the decoders (DuckDB, numpy, compressors), which a CLI
that only parses its options should not pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aico_secure.inspector.errors import BadNeedle, BadRoot, InspectorError, NothingToFind, WorkloadError
from aico_secure.inspector.interface import Detector, Limits
from aico_secure.inspector.model import Finding, InspectionResult, Observation

if TYPE_CHECKING:
    from aico_secure.inspector.scan import inspect_tree

__all__ = ["BadNeedle", "BadRoot", "Detector", "Finding", "InspectionResult", "InspectorError", "Limits",
           "NothingToFind", "Observation", "WorkloadError", "inspect_tree"]


def __getattr__(name: str) -> Any:
    if name == "inspect_tree":
        from aico_secure.inspector.scan import inspect_tree

        return inspect_tree
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
