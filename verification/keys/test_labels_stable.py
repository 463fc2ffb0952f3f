"""HKDF labels are part of the stored format: every key the hierarchy derives depends on its label, so a label
that changes between releases (a default version, a prefix) silently changes every derived key, and whatever
was keyed by the old one (the gateway's decoy salts, the audit log's keys) no longer matches. The labels are
therefore pinned here as the exact strings the module documents."""

from __future__ import annotations

from aico_secure.keys.labels import kek_label, purpose_label


def test_purpose_labels_are_pinned() -> None:
    assert purpose_label("audit") == b"aico-secure/v1/purpose/audit/v1"
    assert purpose_label("gateway", 2) == b"aico-secure/v1/purpose/gateway/v2"


def test_kek_labels_are_pinned() -> None:
    assert kek_label("libsql", 1) == b"aico-secure/v1/kek/libsql/v1"
    assert kek_label("rocksdb", 7) == b"aico-secure/v1/kek/rocksdb/v7"
