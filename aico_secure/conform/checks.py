"""Helpers conformance tests share: file snapshots, secret searches, byte mutations.

They work on what any build leaves on disk and returns through the contract, never on a build's internals.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from aico_secure.inspector import InspectionResult, inspect_tree
from aico_secure.inspector.encodings import byte_forms


def snapshot(root: Path) -> dict[str, str]:
    """SHA-256 of every regular file under ``root``: compare two snapshots to prove nothing changed."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(Path(root).rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def find_leaks(
    root: Path, *, canaries: Iterable[str] = (), secrets: Mapping[str, bytes] | None = None
) -> InspectionResult:
    """Search every file under ``root`` for canaries and secret bytes in every encoding the inspector knows."""
    return inspect_tree(root, canaries=canaries, keys=list((secrets or {}).items()))


def text_contains_secret(text: str, secrets: Mapping[str, bytes]) -> list[str]:
    """Names of secrets that appear in ``text`` (a repr, an exception message, a log line) in any encoding."""
    data = text.encode("utf-8", "surrogateescape")
    hits = []
    for name, secret in secrets.items():
        forms = [f for _enc, f in byte_forms(secret)] + [repr(secret).encode()]
        if any(f in data for f in forms):
            hits.append(name)
    return hits


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01
    path.write_bytes(bytes(data))
