"""AICO-DAR-006: deletion is real. After delete and ``compact`` the deleted canary is neither readable in any file
of the store's directory nor recoverable with the keys (the build's forensic image): only encryption hiding
stale ciphertext is not enough, since whoever later obtains the key could read it.

Positive control: before deletion the forensic image must show the canary (otherwise it proves nothing), and
after compaction it must still show the records that were kept.

One test per property on one shared set-up (built once per store and module; the tests only read it):
deleted records no longer read, leave the files, leave the keys' reach, and the records kept survive
compaction; a build that fails one is still checked for the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aico_secure.conform.passphrases import passphrase
from aico_secure.target import KeysCapability, KeySession, StoreCapability, Target

from ._support import LeakReport, Workload, found_in_image, leaks, mismatches, open_store, write
from .conftest import per_store, store_capability


@dataclass
class Deleted:
    """A store with records kept and records deleted and compacted away, observed at each step."""

    store: StoreCapability
    directory: Path
    session: KeySession  # open until the module's tests are done
    kept: Workload
    doomed: Workload
    still_read: list[str]  # deleted keys that still read back before compaction
    wrong_after_compaction: list[str]  # kept records changed or lost by compaction
    raw: LeakReport  # deleted canaries in the store's files afterwards
    image_entries: int
    stale: dict[str, list[str]]  # deleted canaries the forensic image still shows, by entry
    still_shown: dict[str, list[str]]  # kept canaries the forensic image shows
    control: str  # why the forensic image before deletion proves nothing ("" if it shows the stored records)

    def checked(self) -> Deleted:
        """Itself, once the positive control passed: an image that never showed the records proves nothing."""
        assert not self.control, self.control
        return self


@pytest.fixture(scope="module")
def deleted(aico_target: Target, store_name: str, fast_kdf: bool,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deleted]:
    store = store_capability(aico_target, store_name)
    keys = aico_target.require("keys")
    assert isinstance(keys, KeysCapability), "target.keys does not implement KeysCapability"
    root = tmp_path_factory.mktemp(f"deletion-{store_name}")
    key_session = keys.create(root / "keys", passphrase(), fast_kdf=fast_kdf)
    try:
        yield delete_and_compact(store, root / f"store-{store_name}", key_session)
    finally:
        key_session.close()


def delete_and_compact(store: StoreCapability, store_dir: Path, key_session: KeySession) -> Deleted:
    """Write records, delete some, compact, and observe the store (reads, files, forensic image) at each step."""
    opened = open_store(store, key_session, store_dir)
    try:
        kept = write(opened, Workload(), count=8, tag="keep")
        doomed = write(opened, Workload(), count=3, tag="gone")
    finally:
        opened.close()
    image = store.forensic_image(key_session, store_dir)
    before = found_in_image(image, doomed.value_canaries)
    control = "" if len(before) == len(doomed.value_canaries) else (
        "positive control failed: the forensic image does not show records that are stored, so it cannot show "
        f"that deleted ones are gone ({len(before)}/{len(doomed.value_canaries)} shown; image of "
        f"{ {name: len(data) for name, data in image.items()} })")

    still_read: list[str] = []
    opened = open_store(store, key_session, store_dir)
    try:
        for key in list(doomed.records) + list(doomed.items):
            opened.delete(key)
        for key in list(doomed.records) + list(doomed.items):
            if opened.get(key) is not None:
                still_read.append(key)
        opened.compact()
        wrong = mismatches(opened, kept)
    finally:
        opened.close()
    image = store.forensic_image(key_session, store_dir)
    return Deleted(store, store_dir, key_session, kept, doomed, still_read, wrong, leaks(store_dir, doomed), len(image),
                   found_in_image(image, doomed.canaries), found_in_image(image, kept.value_canaries), control)


@per_store("AICO-DAR-006", scope="module")
def test_deleted_records_no_longer_read(deleted: Deleted) -> None:
    assert not deleted.still_read, f"deleted records still read: {deleted.still_read[:3]}"


@per_store("AICO-DAR-006", scope="module")
def test_deleted_data_leaves_the_files(deleted: Deleted, evidence: Callable[[str, object], None]) -> None:
    evidence("files scanned", deleted.raw.files)
    assert not deleted.raw.findings, f"deleted data readable on disk: {deleted.raw.findings[:5]}"


@per_store("AICO-DAR-006", scope="module")
def test_deleted_data_leaves_the_keys_reach(deleted: Deleted, evidence: Callable[[str, object], None]) -> None:
    deleted = deleted.checked()
    evidence("forensic image entries", deleted.image_entries)
    evidence("deleted canaries recoverable with the keys", len(deleted.stale))
    sources = sorted({f for v in deleted.stale.values() for f in v})
    assert not deleted.stale, f"deleted data still decrypts from: {sources}"
    assert len(deleted.still_shown) == len(deleted.kept.value_canaries), (  # positive control, after the fact
        "the forensic image no longer shows the kept records")


@per_store("AICO-DAR-006", scope="module")
def test_kept_records_survive_deletion_and_compaction(deleted: Deleted) -> None:
    assert not deleted.wrong_after_compaction, "compaction lost or changed records that were not deleted"
    reopened = open_store(deleted.store, deleted.session, deleted.directory)
    try:
        assert not mismatches(reopened, deleted.kept), "after reopening, kept records differ or deleted ones came back"
    finally:
        reopened.close()
