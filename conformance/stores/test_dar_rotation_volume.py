"""Rotation and reopening keep every record, however many there are (AICO-DAR-008).

Engines hand out their contents in pages and batches; a rotation that re-seals "everything" by walking one page,
or a listing that stops at a page boundary, loses exactly the records past it, and a test store with a dozen
records never has any. The store here holds 613 records (past pages of 100, 256 or 500; neither round nor a
power of two; a larger count would cost the quick profile seconds per store), and every one must read back
exactly and be listed, after a data-key rotation and after a reopen.
"""

from __future__ import annotations

from pathlib import Path

from aico_secure.target import KeySession, StoreCapability

from ._support import Workload, lost_on_reopen, mismatches, open_store, write
from .conftest import per_store

COUNT = 613


@per_store("AICO-DAR-008")
def test_every_record_survives_rotation_and_reopen_at_volume(store: StoreCapability, store_dir: Path,
                                                             key_session: KeySession) -> None:
    opened = open_store(store, key_session, store_dir)
    try:
        workload = write(opened, Workload(), count=COUNT, tag="vol")
        assert not mismatches(opened, workload), "positive control: records did not read back before rotation"
        opened.rotate_data_key()
        wrong = mismatches(opened, workload)
        assert not wrong, f"after a data-key rotation {len(wrong)} of {COUNT} records are lost or changed: {wrong[:3]}"
    finally:
        opened.close()
    wrong = lost_on_reopen(store, key_session, store_dir, workload)
    assert not wrong, f"after rotation and reopen {len(wrong)} of {COUNT} records are lost or changed: {wrong[:3]}"
