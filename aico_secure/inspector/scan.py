"""Streaming multi-pattern scan of a directory tree (first version: plain files, text and byte encodings).

Reads every regular file under the root (hidden ones included, symlinks not followed) in overlapping windows
so memory stays bounded, and runs all patterns in one Aho-Corasick pass per window.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick_rs

from aico_secure.inspector.encodings import byte_forms, text_forms

WINDOW_BYTES = 4 << 20


@dataclass(frozen=True)
class Pattern:
    label: str  # what was planted: "canary:<text>" or "key:<name>" (never the key bytes)
    encoding: str
    needle: bytes


@dataclass(frozen=True)
class Finding:
    path: str
    offset: int
    label: str
    encoding: str
    container: str = "file"
    severity: str = "high"


@dataclass
class InspectionResult:
    root: str
    findings: list[Finding] = field(default_factory=list)
    files_read: int = 0
    bytes_read: int = 0
    unreadable: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings and self.files_read > 0 and not self.unreadable


def build_patterns(canaries: Iterable[str] = (), keys: Iterable[tuple[str, bytes]] = ()) -> list[Pattern]:
    patterns: dict[bytes, Pattern] = {}
    for canary in canaries:
        for encoding, needle in text_forms(canary):
            patterns.setdefault(needle, Pattern(f"canary:{canary}", encoding, needle))
    for name, key in keys:
        for encoding, needle in byte_forms(key):
            patterns.setdefault(needle, Pattern(f"key:{name}", encoding, needle))
    return list(patterns.values())


def iter_files(root: Path) -> Iterator[Path]:
    for dirpath, _dirnames, filenames in os.walk(root, followlinks=False):
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _scan_file(path: Path, patterns: list[Pattern], matcher: ahocorasick_rs.BytesAhoCorasick,
               result: InspectionResult) -> None:
    overlap = max(len(p.needle) for p in patterns) - 1
    seen: set[tuple[int, int]] = set()
    with path.open("rb") as fh:
        base = 0
        tail = b""
        while True:
            chunk = fh.read(WINDOW_BYTES)
            if not chunk:
                break
            window = tail + chunk
            start_of_window = base - len(tail)
            for index, start, _end in matcher.find_matches_as_indexes(window, overlapping=True):
                key = (index, start_of_window + start)
                if key not in seen:
                    seen.add(key)
                    pattern = patterns[index]
                    result.findings.append(Finding(str(path), key[1], pattern.label, pattern.encoding))
            result.bytes_read += len(chunk)
            base += len(chunk)
            tail = window[-overlap:] if overlap else b""


def inspect_tree(root: Path, *, canaries: Iterable[str] = (), keys: Iterable[tuple[str, bytes]] = ()) -> InspectionResult:
    root = Path(root)
    result = InspectionResult(root=str(root))
    patterns = build_patterns(canaries, keys)
    if not patterns:
        raise ValueError("nothing to look for: give at least one canary or key")
    matcher = ahocorasick_rs.BytesAhoCorasick([p.needle for p in patterns])
    for path in iter_files(root):
        try:
            _scan_file(path, patterns, matcher, result)
            result.files_read += 1
        except OSError:
            result.unreadable.append(str(path))
    return result
