"""AICO-DAR-006: deletion is real. After delete and ``compact`` the deleted canary is neither readable in any file
of the store's directory nor recoverable with the keys (the build's forensic image): only encryption hiding
stale ciphertext is not enough, since whoever later obtains the key could read it.

Positive control: before deletion the forensic image must show the canary (otherwise it proves nothing), and
after compaction it must still show the records that were kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aico_secure.target import KeySession, RecordStore, StoreCapability, VectorStore

from ._support import Workload, found_in_image, leaks, mismatches, open_store, write
from .conftest import per_store


@per_store("AICO-DAR-006")
def test_deleted_data_leaves_the_files_and_the_keys_reach(store: StoreCapability, store_dir: Path,
                                                         key_session: KeySession,
                                                         evidence: Callable[[str, object], None]) -> None:
    opened = open_store(store, key_session, store_dir)
    try:
        kept = write(opened, Workload(), count=8, tag="keep")
        doomed = write(opened, Workload(), count=3, tag="gone")
    finally:
        opened.close()
    image = store.forensic_image(key_session, store_dir)
    before = found_in_image(image, doomed.value_canaries)
    assert len(before) == len(doomed.value_canaries), (
        "positive control failed: the forensic image does not show records that are stored, so it cannot show "
        f"that deleted ones are gone ({len(before)}/{len(doomed.value_canaries)} shown; image of "
        f"{ {name: len(data) for name, data in image.items()} })")

    opened = open_store(store, key_session, store_dir)
    try:
        for key in list(doomed.records) + list(doomed.items):
            opened.delete(key)
        for key in doomed.records:
            assert isinstance(opened, RecordStore) and opened.get(key) is None, "a deleted record still reads"
        for item_id in doomed.items:
            assert isinstance(opened, VectorStore) and opened.get(item_id) is None, "a deleted item still reads"
        opened.compact()
        assert not mismatches(opened, kept), "compaction lost or changed records that were not deleted"
    finally:
        opened.close()

    raw = leaks(store_dir, doomed)
    image = store.forensic_image(key_session, store_dir)
    stale = found_in_image(image, doomed.canaries)
    still_shown = found_in_image(image, kept.value_canaries)
    evidence("files scanned", raw.files)
    evidence("forensic image entries", len(image))
    evidence("deleted canaries recoverable with the keys", len(stale))
    assert not raw.findings, f"deleted data readable on disk: {raw.findings[:5]}"
    assert not stale, f"deleted data still decrypts from: {sorted({f for v in stale.values() for f in v})}"
    assert len(still_shown) == len(kept.value_canaries), "the forensic image no longer shows the kept records"

    reopened = open_store(store, key_session, store_dir)
    try:
        assert not mismatches(reopened, kept), "after reopening, kept records differ or deleted ones came back"
    finally:
        reopened.close()
