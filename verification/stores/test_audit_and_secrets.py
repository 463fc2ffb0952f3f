"""Every store reports data access and crypto operations to the audit sink, and neither those events nor reprs
nor error messages carry record keys, values or key material."""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.conform.checks import text_contains_secret
from aico_secure.keys import UnlockedKeyring
from aico_secure.reference.stores import IMPLEMENTATIONS, ReferenceStore

from .conftest import RecordingSink

KEY_CANARY = "audit-key-canary-5c1e"
VALUE_CANARY = "audit-value-canary-9d2f"


@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
def test_events_and_texts_carry_no_data_or_keys(name: str, keyring: UnlockedKeyring, tmp_path: Path,
                                                sink: RecordingSink) -> None:
    cls = ReferenceStore(name).implementation()
    store = cls.open(keyring, tmp_path / name, audit=sink)
    try:
        if name == "chroma":
            store.add(KEY_CANARY, [0.5, 0.25, 0.125, 1.0], VALUE_CANARY, {"m": VALUE_CANARY})
            store.get(KEY_CANARY)
            store.query([0.5, 0.25, 0.125, 1.0], 1)
        else:
            store.put(KEY_CANARY, VALUE_CANARY.encode())
            store.get(KEY_CANARY)
            store.keys()
        store.delete(KEY_CANARY)
        store.rotate_data_key()
        store.compact()
        texts = [repr(store), str(store)]
    finally:
        store.close()
    categories = {(e.category, e.action) for e in sink.events}
    assert {("data_access", "write"), ("data_access", "read"), ("data_access", "delete")} <= categories
    assert {("crypto", "open"), ("crypto", "rotate_dek"), ("crypto", "compact")} <= categories
    texts += [repr(e) for e in sink.events]
    secrets = {f"dek:{k.key_id.hex()}": k.secret.reveal() for k in keyring.data_keys(name)}
    for text in texts:
        assert KEY_CANARY not in text and VALUE_CANARY not in text, text
        assert not text_contains_secret(text, secrets), text
