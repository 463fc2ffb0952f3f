"""AICO-DAR-004: a RocksDB value moved to another key does not open.

The suite plays the attacker with write access to the files: it opens the build's RocksDB directory with the
RocksDB engine itself (rocksdict, raw mode), swaps the stored values of two entries, and reopens the store
through the contract. Every read must then either be refused with ``IntegrityViolation`` or return exactly
what was written under that key; a swapped value read back under the wrong key is the failure.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aico_secure.target import IntegrityViolation, KeySession, RecordStore, StoreCapability

from ._format import rocksdict_module
from ._support import Workload, open_store, write
from .conftest import per_store

if TYPE_CHECKING:
    import rocksdict

TRIALS = 3


def _raw_options() -> rocksdict.Options:
    options = rocksdict_module().Options(raw_mode=True)
    options.create_if_missing(False)
    return options


def _swap_values(directory: Path, rng: random.Random) -> str:
    """Swap the values of two entries of the fullest column family; returns which family."""
    rocksdict = rocksdict_module()
    families = rocksdict.Rdict.list_cf(str(directory))
    db = rocksdict.Rdict(str(directory), _raw_options(), column_families={f: _raw_options() for f in families})
    try:
        contents = {f: list((db if f == "default" else db.get_column_family(f)).items()) for f in families}
        family = max(contents, key=lambda f: len(contents[f]))
        assert len(contents[family]) >= 2, "the store holds fewer than two entries in any column family"
        (key_a, value_a), (key_b, value_b) = rng.sample(contents[family], 2)
        handle = db if family == "default" else db.get_column_family(family)
        handle[key_a], handle[key_b] = value_b, value_a
        del handle
        return family
    finally:
        db.close()


@per_store("AICO-DAR-004", stores=("rocksdb",))
def test_value_moved_to_another_key_fails_to_open(store: StoreCapability, store_dir: Path, tmp_path: Path,
                                                  key_session: KeySession,
                                                  evidence: Callable[[str, object], None]) -> None:
    opened = open_store(store, key_session, store_dir)
    try:
        workload = write(opened, Workload(), count=10, tag="s")
    finally:
        opened.close()
    rng = random.Random(4)
    refused_reads = 0
    for trial in range(TRIALS):
        copy = tmp_path / f"swap-{trial}"
        shutil.copytree(store_dir, copy)
        family = _swap_values(copy, rng)
        try:
            reopened = open_store(store, key_session, copy)
        except IntegrityViolation:
            refused_reads += len(workload.records)
            continue
        assert isinstance(reopened, RecordStore)
        wrong, refused = [], []
        try:
            for key, value in workload.records.items():
                try:
                    got = reopened.get(key)
                except IntegrityViolation:
                    refused.append(key)
                    continue
                if got != value:
                    wrong.append(key)
        finally:
            reopened.close()
        assert not wrong, f"trial {trial}: swapped values in {family!r} read back under the wrong key: {wrong}"
        assert refused, f"trial {trial}: two values were swapped in {family!r} and every read still succeeded"
        refused_reads += len(refused)
    evidence("swap trials", TRIALS)
    evidence("refused reads", refused_reads)
