"""Shared by the inspector harnesses: the input becomes a file (or a few) in a scratch directory, which the
inspector's engine scans with the default detectors, tight limits and a canary, a key and a vector to find.

The inspector's contract is stronger than "raises only typed errors": it never raises on file content at all.
A file it cannot read to its end is recorded as unreadable with a one-line reason, within its time and decode
budgets. The scan itself catches every exception a decoder lets out (``inspection failed: <type>``) so one bad
file cannot stop an audit, which would hide exactly the bugs a fuzzer is for: so the harness treats that
catch-all reason as a finding, like any malformed result (``check_result``), and ``refusals`` is empty. (A
replay's ``InputHang`` raised inside the scan is caught the same way and comes out as such a finding.)

Routing is by content (magic numbers, headers, footers), not by name; the files still get the names a store
would give them, so a detector that ever starts looking at names is fuzzed the way it is used.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from aico_secure.fuzz.interface import Harness
from aico_secure.inspector.interface import Limits
from aico_secure.inspector.model import SEVERITIES, InspectionResult

if TYPE_CHECKING:
    from aico_secure.inspector.scan import _Engine

CANARIES = ("aico-fuzz-canary-plain", "Grüße fuzz-canary ☃ diary")
KEY_NAME = "fuzz"
KEY = bytes(range(0x41, 0x61))  # 32 distinctive bytes: raw, hex, base64 and Z85 forms become patterns
VECTOR = (0.125, -0.5, 0.75, -0.25, 0.375, 0.625, -0.875, 0.3125)
LABEL_KINDS = ("canary", "key", "vector", "container")
BUDGET_PREFIX = "not fully inspected: "  # the scan's reason for a file whose budget ran out (``BudgetExceeded``)

# Tight budgets: the contract must hold at the edges (caps hit, streams cut), and every input stays cheap.
LIMITS = Limits(window_bytes=64 << 10, decode_cap=1 << 20, decode_chunk=64 << 10, max_depth=4, probe_bytes=1 << 20,
                findings_per_label=5, file_decode_bytes=4 << 20, run_decode_bytes=8 << 20, decode_ratio=4,
                file_seconds=5.0, run_seconds=None, spool_memory=1 << 20, cell_stream_bytes=64 << 10)


class ContractBroken(Exception):
    """The scan answered an input with a malformed result, or a detector let an exception out."""


class InspectorHarness(Harness):
    """A scan of a scratch directory holding the input; subclasses say which files the input becomes."""

    refusals = ()
    max_len = 64 << 10
    timeout_s = 20  # the per-file time budget is 5 s; engine calls (SQLite, DuckDB) do not check it mid-query
    rss_limit_mb = 2048
    limits = LIMITS

    def setup(self) -> None:
        # Import every detector (and what they load lazily) before ``atheris.instrument_all`` runs.
        import duckdb  # noqa: F401

        import aico_secure.inspector.scan  # noqa: F401

        self._dir = Path(tempfile.mkdtemp(prefix=f"aico-fuzz-{self.name}-"))
        self._root = self._dir / "data"
        self._root.mkdir()
        self._cached: _Engine | None = None

    def teardown(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    @abstractmethod
    def layout(self, data: bytes) -> dict[str, bytes]:
        """The files ``data`` becomes in the scanned directory: {file name: content}."""

    def run(self, data: bytes) -> None:
        from aico_secure.inspector.model import InspectionResult, Observation
        from aico_secure.inspector.walk import iter_files

        files = self.layout(data)
        for entry in self._root.iterdir():  # unlink, not truncate: rewriting a file in place is 40x slower
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for name, content in files.items():
            (self._root / name).write_bytes(content)
        root = self._root.resolve()
        result = InspectionResult(root=str(root))
        engine = self._engine(result)

        def skipped(path: Path, reason: str) -> None:
            result.skipped.append(str(path))
            result.observations.append(Observation(str(path), "walk", reason))

        def failed(path: Path, reason: str) -> None:
            result.mark_unreadable(str(path), reason)

        for path in iter_files(root, skipped=skipped, failed=failed):
            engine.inspect_file(path, root)
        self.last_result = result  # for whoever minimises a finding by hand
        check_result(result, {str(root / n): c for n, c in files.items()}, self.limits)

    def _engine(self, result: InspectionResult) -> _Engine:
        """``inspect_tree``'s engine, built once: compiling the needles into automata costs more than scanning a
        small file, and none of it depends on the input. Each input gets a fresh result and fresh budgets, as
        in a run of its own; the detectors are meant to see file after file (``Detector``)."""
        from aico_secure.inspector._detector import default_detectors
        from aico_secure.inspector.budget import Budget
        from aico_secure.inspector.needles import Needles
        from aico_secure.inspector.scan import _Engine

        if self._cached is None:
            needles = Needles.build(CANARIES, [VECTOR], [(KEY_NAME, KEY)])
            self._cached = _Engine(default_detectors(), needles, self.limits, result)
        self._cached.result = result
        self._cached.budget = Budget(self.limits)
        return self._cached


@functools.cache
def _literal_forms() -> dict[tuple[str, str], tuple[bytes, ...]]:
    """(label, encoding) -> the bytes a raw literal finding may sit on (one encoding name can have several
    forms: JSON with and without ``ensure_ascii``, URL-encoding in either case)."""
    from aico_secure.inspector.encodings import byte_forms, text_forms

    forms: dict[tuple[str, str], tuple[bytes, ...]] = {}
    pairs = [(f"canary:{c}", form) for c in CANARIES for form in text_forms(c)]
    pairs += [(f"key:{KEY_NAME}", form) for form in byte_forms(KEY, z85_forms=True)]
    for label, (encoding, needle) in pairs:
        forms[(label, encoding)] = (*forms.get((label, encoding), ()), needle)
    return forms


def check_result(result: InspectionResult, files: dict[str, bytes], limits: Limits) -> None:
    """Raise ``ContractBroken`` unless ``result`` is a well-formed answer for exactly ``files``."""
    problems: list[str] = []
    if result.skipped:
        problems.append(f"regular files skipped: {result.skipped}")
    budget_cut = 0
    for where, reason in result.unreadable_reasons.items():
        if not isinstance(reason, str) or not reason or "\n" in reason or "\r" in reason:
            problems.append(f"unreadable reason is not one line of text: {reason!r}")
        path = where.split("#", 1)[0]
        if path not in files:
            problems.append(f"unreadable place outside the written files: {where!r}")
        elif where == path:
            if reason.startswith(BUDGET_PREFIX):
                budget_cut += 1
            else:  # the scan's catch-all: a detector raised instead of reporting the file unreadable
                problems.append(f"{Path(path).name}: {reason}")
    if set(result.unreadable) != set(result.unreadable_reasons):
        problems.append("unreadable list and reasons disagree")
    if result.files_read + budget_cut != len(files):
        problems.append(f"{len(files)} file(s) written, {result.files_read} read, {budget_cut} cut by a budget")
    forms = _literal_forms()
    for f in result.findings:
        content = files.get(f.path)
        if content is None:
            problems.append(f"finding in a file that was not written: {f.path!r}")
            continue
        if f.kind not in LABEL_KINDS or f.severity not in SEVERITIES:
            problems.append(f"malformed finding label/severity: {f.label!r} {f.severity!r}")
        if not 0 <= f.offset < max(1, len(content)):
            problems.append(f"finding offset {f.offset} outside a file of {len(content)} bytes ({f.container})")
        if f.decoded_offset is not None and f.decoded_offset < 0:
            problems.append(f"negative decoded offset {f.decoded_offset} ({f.container})")
        if f.entropy is not None and not 0.0 <= f.entropy <= 8.0:
            problems.append(f"entropy {f.entropy} outside 0..8 bits per byte")
        needles = forms.get((f.label, f.encoding), ())
        if f.decoded_offset is None and needles and not any(content.startswith(n, f.offset) for n in needles):
            problems.append(f"{f.label} ({f.encoding}) reported at {f.offset}, where the file does not hold it")
    slack = sum(limits.file_decode_budget(len(c)) + max(limits.decode_cap, len(c) + (1 << 20)) for c in files.values())
    if result.decoded_bytes > slack:
        problems.append(f"{result.decoded_bytes} decoded bytes scanned, over the budgets ({slack})")
    if problems:
        raise ContractBroken("; ".join(problems[:5]))


def reference_store_files(store: str) -> dict[str, bytes]:
    """The files one store of the reference build writes for a few records holding the canaries, as
    {path relative to the store directory: content}: the ciphertext-at-rest every seed corpus starts from."""
    import secrets

    from aico_secure.reference import build
    from aico_secure.target import RecordStore, VectorStore
    from aico_secure.target.keys import KeysCapability

    target = build()
    with tempfile.TemporaryDirectory(prefix="aico-fuzz-seed-") as scratch:
        root = Path(scratch)
        keys = target.require("keys")
        if not isinstance(keys, KeysCapability):
            raise TypeError("the reference build's keys capability does not implement KeysCapability")
        session = keys.create(root / "keys", "pw-" + secrets.token_urlsafe(12), fast_kdf=True)
        try:
            opened = target.stores[store].open(session, root / "store")
            try:
                if isinstance(opened, VectorStore):
                    for i, canary in enumerate(CANARIES):
                        opened.add(f"item-{i}", [v * (i + 1) for v in VECTOR], f"{canary} note of my sister",
                                   {"topic": canary})
                elif isinstance(opened, RecordStore):
                    for i, canary in enumerate(CANARIES):
                        opened.put(f"rec-{i}", f"{canary} note of my sister".encode())
                    opened.put("key", KEY)
            finally:
                opened.close()
        finally:
            session.close()
        return {p.relative_to(root / "store").as_posix(): p.read_bytes()
                for p in sorted((root / "store").rglob("*")) if p.is_file()}


def canary_text(lines: int = 40) -> bytes:
    """User prose holding every canary once: what a leaking build would compress or store."""
    body = [f"{i:04d} user: hello, how was the day? assistant: fine, thanks for asking" for i in range(lines)]
    body[lines // 2] = f"{lines // 2:04d} user: my secret is {CANARIES[0]} and {CANARIES[1]}"
    return "\n".join(body).encode()
