"""HKDF ``info`` labels: the one place that names every key the hierarchy derives.

Labels are versioned (``.../v1``) so a purpose key can be replaced by bumping its version without touching any
other purpose. A label is never reused for a different meaning.
"""

from __future__ import annotations

import re

LABEL_PREFIX = "aico-secure/v1"
STORE_PURPOSES = ("libsql", "chroma", "duckdb", "rocksdb", "audit", "transport", "gateway", "consent")
_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def check_purpose(purpose: str) -> str:
    if not isinstance(purpose, str) or not _PURPOSE.fullmatch(purpose):
        raise ValueError("a key purpose is 1-40 lowercase letters, digits, '-' or '_', starting with a letter")
    return purpose


def kek_label(purpose: str, version: int) -> bytes:
    """The key-encryption key that wraps ``purpose``'s data keys."""
    return f"{LABEL_PREFIX}/kek/{check_purpose(purpose)}/v{int(version)}".encode()


def purpose_label(purpose: str, version: int = 1) -> bytes:
    """A directly derived per-purpose key (changes with the master key; never used to encrypt stored data)."""
    return f"{LABEL_PREFIX}/purpose/{check_purpose(purpose)}/v{int(version)}".encode()


VERIFIER_LABEL = f"{LABEL_PREFIX}/keyring/verifier".encode()
KEYRING_MAC_LABEL = f"{LABEL_PREFIX}/keyring/mac".encode()
VERIFIER_MESSAGE = b"aico-secure keyring password verifier"
