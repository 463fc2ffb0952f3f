"""Property tests of tamper evidence: flip, delete, reorder, duplicate, insert and truncate entries at random;
every change is detected, and a single change is located where it happened."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aico_secure.audit.codec import SealedCodec
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import CHECKPOINT_NAME, LOG_NAME
from aico_secure.audit.log import AuditLog
from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.audit.verify import Verification, entry_spans, verify_log

N = 10


@dataclass(frozen=True)
class Base:
    root: Path
    header: bytes
    entries: tuple[bytes, ...]
    foreign: bytes
    keys: KeyringLogKeys

    def verify(self, entries: list[bytes], tail: bytes = b"", header: bytes | None = None,
               checkpoint: bytes | None = None) -> Verification:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            shutil.copy(self.root / "log" / CHECKPOINT_NAME, work / CHECKPOINT_NAME)
            if checkpoint is not None:
                (work / CHECKPOINT_NAME).write_bytes(checkpoint)
            (work / LOG_NAME).write_bytes((self.header if header is None else header) + b"".join(entries) + tail)
            return verify_log(work, self.keys, SealedCodec(self.keys))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, log_keys: KeyringLogKeys) -> Base:
    root = tmp_path_factory.mktemp("audit-properties")
    for name, count in (("log", N), ("other", 1)):
        log = AuditLog.open(root / name, log_keys, durable=False, clock=lambda: 1_700_000_000.0)
        for i in range(count):
            log.append(AuditEvent(category="data_access", action="read", actor="user-1", subject="notes",
                                  details={"i": i}))
        log.close()
    data = (root / "log" / LOG_NAME).read_bytes()
    spans = entry_spans(root / "log")
    other = entry_spans(root / "other")[0]
    return Base(root, data[: spans[0][0]], tuple(data[s:e] for s, e in spans),
                (root / "other" / LOG_NAME).read_bytes()[other[0] : other[1]], log_keys)


# ---- mutations: each returns the new entry list and the positions where a single one must be reported -------
@dataclass(frozen=True)
class Mutation:
    name: str
    args: tuple[int, ...]

    def apply(self, entries: list[bytes], foreign: bytes) -> tuple[list[bytes], bytes, set[tuple[str | None, int]]]:
        """(new entries, trailing partial bytes, acceptable (kind, position) findings for this one change)."""
        out, n = list(entries), len(entries)
        if self.name == "flip":
            i, offset, mask = self.args
            data = bytearray(out[i])
            data[offset % len(data)] ^= mask
            out[i] = bytes(data)
            return out, b"", {(None, i)}
        if self.name == "delete":
            (i,) = self.args
            del out[i]
            return out, b"", {("deleted", i)} if i < n - 1 else {("truncated", i)}
        if self.name == "swap":
            i, j = self.args
            out[i], out[j] = out[j], out[i]
            return out, b"", {("reordered", i), ("reordered", j)}
        if self.name == "duplicate":
            i, j = self.args
            out.insert(j, out[i])
            original = i if j > i else i + 1
            return out, b"", {("inserted", j), ("inserted", original)}
        if self.name == "foreign":
            (j,) = self.args
            out.insert(j, foreign)
            return out, b"", {("inserted", j)}
        if self.name == "truncate":
            (k,) = self.args
            return out[:k], b"", {("truncated", k)}
        if self.name == "cut":
            k, at = self.args
            partial = out[k][: at % (len(out[k]) - 1) + 1] if len(out[k]) > 1 else b""
            return out[:k], partial, {("truncated", k), ("modified", k)}
        raise AssertionError(self.name)


def mutations(n: int) -> st.SearchStrategy[Mutation]:
    index = st.integers(0, n - 1)
    pair = st.tuples(index, index).filter(lambda p: p[0] != p[1])
    return st.one_of(
        st.tuples(index, st.integers(0, 10_000), st.integers(1, 255)).map(lambda a: Mutation("flip", a)),
        index.map(lambda i: Mutation("delete", (i,))),
        pair.map(lambda p: Mutation("swap", (min(p), max(p)))),
        st.tuples(index, st.integers(0, n)).map(lambda a: Mutation("duplicate", a)),
        st.integers(0, n).map(lambda j: Mutation("foreign", (j,))),
        st.integers(0, n - 1).map(lambda k: Mutation("truncate", (k,))),
        st.tuples(index, st.integers(0, 10_000)).map(lambda a: Mutation("cut", a)),
    )


def findings(found: Verification) -> set[tuple[str, int]]:
    return {(p.kind, p.position) for p in found.problems}


def test_the_untouched_log_verifies(base: Base) -> None:
    found = base.verify(list(base.entries))
    assert found.ok and found.authentic == N and not found.warnings


@given(mutation=mutations(N))
def test_a_single_change_is_detected_and_located(base: Base, mutation: Mutation) -> None:
    entries, tail, expected = mutation.apply(list(base.entries), base.foreign)
    found = base.verify(entries, tail)
    assert not found.ok, f"{mutation} went unnoticed"
    hits = findings(found)
    assert any((kind is None and any(pos == position for _, pos in hits)) or (kind, position) in hits
               for kind, position in expected), f"{mutation}: expected one of {expected}, got {sorted(hits)}"


@given(steps=st.lists(st.data(), min_size=1, max_size=4))
def test_any_sequence_of_changes_is_detected(base: Base, steps: list[st.DataObject]) -> None:
    entries, tail = list(base.entries), b""
    for data in steps:
        if not entries:
            break
        mutation = data.draw(mutations(len(entries)))
        entries, tail, _ = mutation.apply(entries, base.foreign)
        if tail:
            break  # a cut leaves a partial entry at the very end; nothing can follow it
    found = base.verify(entries, tail)
    changed = entries != list(base.entries) or tail
    assert found.ok is (not changed), f"changed={bool(changed)} but ok={found.ok}: {sorted(findings(found))}"


@given(offset=st.integers(0, 100_000), mask=st.integers(1, 255), target=st.sampled_from(["log", "checkpoint"]))
def test_any_flipped_byte_anywhere_is_detected(base: Base, offset: int, mask: int, target: str) -> None:
    log = bytearray(base.header + b"".join(base.entries))
    checkpoint = bytearray((base.root / "log" / CHECKPOINT_NAME).read_bytes())
    victim = log if target == "log" else checkpoint
    victim[offset % len(victim)] ^= mask
    found = base.verify([], bytes(log[len(base.header):]), header=bytes(log[: len(base.header)]),
                        checkpoint=bytes(checkpoint))
    assert not found.ok, f"flipping byte {offset % len(victim)} of the {target} went unnoticed"


@given(length=st.integers(0, 10_000))
def test_any_truncation_of_the_file_is_detected(base: Base, length: int) -> None:
    whole = base.header + b"".join(base.entries)
    cut = length % len(whole)
    found = base.verify([], whole[len(base.header):cut] if cut > len(base.header) else b"",
                        header=whole[: min(cut, len(base.header))])
    assert not found.ok, f"the log cut to {cut} of {len(whole)} bytes verified"
