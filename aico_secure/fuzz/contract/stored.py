"""Stored bytes of each store: damage a closed store's files, reopen it, read everything back.

The property (AICO-DAR-005, fuzzed): after any damage every read returns exactly the record written or
``IntegrityViolation``; never other data, an absent record, another exception, or a hang. The conformance suite
applies a handful of fixed damages; here the damage is drawn from the seed (bit flips, byte sets, truncation,
zeroed pages, splices from elsewhere in the same file or from another store's file), several per trial, for as
long as the budget lasts, and aimed inside records where the build says (``RecordSpans``) or where the bytes
changed when records were rewritten.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aico_secure.conform.passphrases import passphrase
from aico_secure.fuzz.contract.interface import (
    HANG,
    UNTYPED,
    WRONG_DATA,
    ContractSurface,
    Finding,
    RecordSpans,
    Source,
    SurfaceUnavailable,
)
from aico_secure.target import IntegrityViolation, KeysCapability, KeySession, RecordStore, StoreCapability, Target
from aico_secure.target.stores import VectorStore

RECORDS = 12
DIMENSION = 16
PAGE = 4096
Spans = dict[str, list[tuple[int, int]]]


@dataclass
class Written:
    """A store written and closed: what went in, and where damage is worth aiming."""

    capability: StoreCapability
    pristine: Path
    records: dict[str, bytes] = field(default_factory=dict)
    items: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    spans: Spans = field(default_factory=dict)

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.pristine)) for p in self.pristine.rglob("*")
                      if p.is_file() and not p.is_symlink() and p.stat().st_size > 0)


def _value(name: str, i: int) -> bytes:
    # Distinct lengths and contents, so a record read back as another record's data is always visible.
    return f"record {name} #{i} ".encode() * (2 + i % 5) + bytes([i]) * (20 + 7 * i)


def _embedding(i: int) -> list[float]:
    return [((i * 31 + j * 17) % 97) / 97.0 + 0.1 for j in range(DIMENSION)]


def _write(capability: StoreCapability, session: KeySession, directory: Path, tag: str,
           variant: int = 0) -> Written:
    written = Written(capability, directory)
    opened = capability.open(session, directory)
    try:
        for i in range(RECORDS):
            key = f"{tag}-key-{i:02d}"
            if isinstance(opened, VectorStore):
                document, metadata = f"document {tag} {i} v{variant}", {"n": str(i), "tag": tag}
                opened.add(key, _embedding(i + variant), document, metadata)
                written.items[key] = (document, metadata)
            else:
                value = _value(f"{tag}v{variant}", i)
                opened.put(key, value)
                written.records[key] = value
    finally:
        opened.close()
    return written


def _changed_spans(before: Path, after: Path) -> Spans:
    """Byte ranges (page-rounded) of each file of ``before`` that differ in ``after``: where rewritten records
    live in a build that tells nothing about its layout."""
    spans: Spans = {}
    for path in before.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        relative = str(path.relative_to(before))
        other = after / relative
        old = path.read_bytes()
        new = other.read_bytes() if other.is_file() else b""
        ranges: list[tuple[int, int]] = []
        for start in range(0, len(old), 512):
            if old[start:start + 512] != new[start:start + 512]:
                if ranges and ranges[-1][1] == start:
                    ranges[-1] = (ranges[-1][0], min(len(old), start + 512))
                else:
                    ranges.append((start, min(len(old), start + 512)))
        if ranges:
            spans[relative] = ranges
    return spans


def _bounded(call: Callable[[], Any], seconds: float) -> tuple[bool, Any, BaseException | None]:
    """Run ``call`` in a daemon thread: (finished, result, exception). A hung engine cannot be killed in
    process; the thread is abandoned and the surface stops."""
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - judged by the caller
            box["error"] = exc

    worker = threading.Thread(target=body, daemon=True, name="contract-fuzz-store")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return False, None, None
    return True, box.get("result"), box.get("error")


class StoredSurface(ContractSurface):
    name = "stored"
    bound_s = 60.0

    def __init__(self, stores: Sequence[str] | None = None) -> None:
        self.only = tuple(stores) if stores else None
        self.session: KeySession | None = None
        self.written: dict[str, Written] = {}
        self.foreign: dict[str, list[bytes]] = {}
        self.workdir = Path()
        self.trials = 0
        # Learned per store and file: damage there that some reads refuse while others succeed is damage to
        # records; a file whose damage only ever stops the open, or changes nothing, holds none.
        self.weights: dict[str, dict[str, float]] = {}

    def setup(self, target: Target, workdir: Path) -> None:
        keys = target.keys
        names = [n for n in target.stores if self.only is None or n in self.only]
        if not isinstance(keys, KeysCapability) or not names:
            raise SurfaceUnavailable("the build has no keys capability or no store to fuzz")
        self.workdir = workdir
        self.session = keys.create(workdir / "keys", passphrase(), fast_kdf=True)
        for name in names:
            capability = target.stores[name]
            written = _write(capability, self.session, workdir / "pristine" / name, name)
            if isinstance(capability, RecordSpans):
                written.spans = {k: list(v) for k, v in capability.record_spans(written.pristine).items()}
            else:
                rewritten = workdir / "rewritten" / name
                shutil.copytree(written.pristine, rewritten)
                _write(capability, self.session, rewritten, name, variant=1)
                written.spans = _changed_spans(written.pristine, rewritten)
                shutil.rmtree(rewritten, ignore_errors=True)
            self.written[name] = written
        for name in names:  # another store's files, or another instance of the only store
            sources = [w.pristine for n, w in self.written.items() if n != name]
            if not sources:
                other = _write(self.written[name].capability, self.session, workdir / "other" / name, "other")
                sources = [other.pristine]
            self.foreign[name] = [p.read_bytes() for s in sources for p in sorted(s.rglob("*"))
                                  if p.is_file() and p.stat().st_size > 0]

    def step(self, source: Source, label: str) -> list[Finding]:
        assert self.session is not None, "setup() first"
        name = source.pick(sorted(self.written))
        written = self.written[name]
        trial = self.workdir / "trials" / f"t{self.trials}"
        self.trials += 1
        shutil.copytree(written.pristine, trial)
        count = source.weighted({1: 6, 2: 2, 3: 1})
        applied = [self._damage(source, written, name, trial) for _ in range(count)]
        where = f"{label}, store {name}: {'; '.join(applied)}"
        finished, problems, error = _bounded(lambda: self._read_back(written, trial), self.bound_s)
        if not finished:
            return [Finding(self.name, HANG, f"{name}: open/read did not return within {self.bound_s:.0f} s", where)]
        shutil.rmtree(trial, ignore_errors=True)
        if count == 1 and error is None:
            self._learn(name, applied[0].partition(":")[0], problems)
        if error is not None:
            return [Finding(self.name, UNTYPED, f"{name}: {type(error).__name__} while reading back", where)]
        return [Finding(self.name, kind, f"{name}: {detail}", where) for kind, detail in problems]

    def _damage(self, source: Source, written: Written, name: str, trial: Path) -> str:
        files = [f for f in written.files() if (trial / f).is_file() and (trial / f).stat().st_size > 0]
        if not files:
            return "nothing left to damage"
        aimed = [f for f in files if f in written.spans]
        if aimed and source.chance(0.3):
            relative = source.pick(aimed)
        else:
            weights = self.weights.setdefault(name, {})
            relative = source.weighted({f: max(1, int(10 * weights.get(f, 1.0))) for f in files})
        path = trial / relative
        data = bytearray(path.read_bytes())
        spans = written.spans.get(relative) or [(0, len(data))]
        lo, hi = source.pick(spans)
        hi = max(lo + 1, min(hi, len(data)))

        def offset() -> int:
            return source.int_in(lo, hi - 1) if lo < len(data) else source.int_in(0, len(data) - 1)

        kind = source.weighted({"flip": 5, "set": 2, "truncate": 2, "zero-page": 2, "splice-self": 2,
                                "splice-foreign": 2})
        if kind == "flip":
            at, bit = offset(), source.int_in(0, 7)
            data[at] ^= 1 << bit
            detail = f"flip bit {bit} at {at}"
        elif kind == "set":
            at, byte = offset(), source.int_in(0, 255)
            data[at] = byte
            detail = f"byte {at} := {byte}"
        elif kind == "truncate":
            at = offset() if source.chance(0.5) else (offset() // PAGE) * PAGE
            del data[at:]
            detail = f"truncate to {at}"
        elif kind == "zero-page":
            start = (offset() // PAGE) * PAGE
            size = source.pick((512, PAGE))
            data[start:start + size] = bytes(len(data[start:start + size]))
            detail = f"zero {size} bytes at {start}"
        elif kind == "splice-self":
            size = source.int_in(1, min(PAGE, len(data)))
            src, dst = source.int_in(0, len(data) - size), offset()
            chunk = bytes(data[src:src + size])
            data[dst:dst + len(chunk)] = chunk
            detail = f"copy {size} bytes from {src} to {dst}"
        else:
            foreign = source.pick(self.foreign[name])
            size = source.int_in(1, min(PAGE, len(foreign)))
            src, dst = source.int_in(0, len(foreign) - size), offset()
            data[dst:dst + size] = foreign[src:src + size]
            detail = f"splice {size} foreign bytes from {src} to {dst}"
        path.write_bytes(bytes(data))
        return f"{relative}: {detail}"

    def _learn(self, name: str, relative: str, problems: list[tuple[str, str]]) -> None:
        weights = self.weights.setdefault(name, {})
        weight = weights.get(relative, 1.0)
        if problems or self._partial:
            weight = min(weight + 3.0, 30.0)
        else:
            weight = max(weight * 0.85, 0.2)
        weights[relative] = weight

    _partial = False  # the last read-back refused some records and read others exactly

    def _read_back(self, written: Written, trial: Path) -> list[tuple[str, str]]:
        """Open and read everything: problems as (kind, detail). A refusal anywhere is fine; so is exact data."""
        assert self.session is not None
        problems: list[tuple[str, str]] = []

        def untyped(doing: str, exc: BaseException) -> None:
            problems.append((UNTYPED, f"{type(exc).__name__} from {doing}"))

        self._partial = False
        try:
            opened = written.capability.open(self.session, trial)
        except IntegrityViolation:
            return []
        except Exception as exc:  # noqa: BLE001 - anything but the contract's refusal is the finding
            untyped("open", exc)
            return problems
        try:
            if isinstance(opened, VectorStore):
                self._read_items(opened, written.items, problems, untyped)
            elif isinstance(opened, RecordStore):
                self._read_records(opened, written.records, problems, untyped)
        finally:
            try:
                opened.close()
            except IntegrityViolation:
                pass
            except Exception as exc:  # noqa: BLE001
                untyped("close", exc)
        kinds = {kind for kind, _ in problems}
        self._partial = {"_refused", "_exact"} <= kinds
        return [(kind, detail) for kind, detail in problems if not kind.startswith("_")]

    @staticmethod
    def _read_records(opened: RecordStore, records: Mapping[str, bytes], problems: list[tuple[str, str]],
                      untyped: Callable[[str, BaseException], None]) -> None:
        for key, value in records.items():
            try:
                got = opened.get(key)
            except IntegrityViolation:
                problems.append(("_refused", key))
                continue
            except Exception as exc:  # noqa: BLE001
                untyped(f"get({key})", exc)
                continue
            if got == value:
                problems.append(("_exact", key))
            elif got is None:
                problems.append((WRONG_DATA, f"get({key}) says absent: the damaged record vanished unrefused"))
            elif got != value:
                other = [k for k, v in records.items() if v == got and k != key]
                what = f"the value of {other[0]}" if other else f"{len(got)} bytes of other data"
                problems.append((WRONG_DATA, f"get({key}) returned {what}"))
        try:
            listed = sorted(opened.keys())
        except IntegrityViolation:
            return
        except Exception as exc:  # noqa: BLE001
            untyped("keys()", exc)
            return
        if listed != sorted(records):
            problems.append((WRONG_DATA, f"keys() lists {len(listed)} keys, not the {len(records)} written"))

    @staticmethod
    def _read_items(opened: VectorStore, items: Mapping[str, tuple[str, dict[str, str]]],
                    problems: list[tuple[str, str]], untyped: Callable[[str, BaseException], None]) -> None:
        for item_id, (document, metadata) in items.items():
            try:
                got = opened.get(item_id)
            except IntegrityViolation:
                problems.append(("_refused", item_id))
                continue
            except Exception as exc:  # noqa: BLE001
                untyped(f"get({item_id})", exc)
                continue
            if got is not None and got[0] == document and dict(got[1]) == metadata:
                problems.append(("_exact", item_id))
            elif got is None:
                problems.append((WRONG_DATA, f"get({item_id}) says absent: the damaged item vanished unrefused"))
            elif got[0] != document or dict(got[1]) != metadata:
                problems.append((WRONG_DATA, f"get({item_id}) returned another document or metadata"))
        try:
            listed = sorted(opened.ids())
        except IntegrityViolation:
            return
        except Exception as exc:  # noqa: BLE001
            untyped("ids()", exc)
            return
        if listed != sorted(items):
            problems.append((WRONG_DATA, f"ids() lists {len(listed)} ids, not the {len(items)} written"))

    def teardown(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
