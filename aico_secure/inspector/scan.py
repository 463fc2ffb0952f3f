"""The orchestrator: walk the tree, stream each file once through every detector, collect the verdict.

One multi-pattern search (built once from the literal patterns of all detectors, see ``_Matcher``) is run over
each window; hits go to the detector owning the pattern. Detectors that decode something (compressed streams,
database files, SST blocks) feed the decoded bytes back through ``FileScope.scan_decoded``, which runs the
same automaton and the same window detectors over them, so every encoding is looked for inside every
container. Memory is bounded by the window size, the decode cap and the per-label finding cap.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import ahocorasick_rs

from aico_secure.inspector._detector import default_detectors
from aico_secure.inspector.budget import Budget, BudgetExceeded
from aico_secure.inspector.errors import BadRoot, NothingToFind
from aico_secure.inspector.interface import Detector, Limits, Scope, Stream, Window
from aico_secure.inspector.model import Finding, InspectionResult, Observation, Severity
from aico_secure.inspector.needles import Needles, Pattern
from aico_secure.inspector.selfreport import is_own_report
from aico_secure.inspector.spool import Spool
from aico_secure.inspector.walk import iter_files, open_regular
from aico_secure.inspector.windows import chunk_windows, file_windows
from aico_secure.sensitive import SecretBytes

HEAD_BYTES = 64 << 10
TAIL_BYTES = 64
_POSITION = re.compile(r"@\d+")


class _Matcher:
    """All literal patterns of all detectors; a needle shared by two owners reaches both.

    Speed comes from the Rust ``aho-corasick`` crate's SIMD prefilter (Teddy), which it only uses for
    leftmost, non-overlapping searches over at most ``GROUP`` patterns, and whose cost is mostly one pass over
    the data per group. So the search runs in two stages. First, groups of up to 64 *anchors* find where
    something may match: an anchor is the first ``ANCHOR`` bytes of a needle, and the forms of one canary (its
    UTF-8, JSON-escaped and URL-encoded forms, the canaries sharing a prefix) mostly share theirs, so a few
    hundred needles need two passes instead of four. Then a complete overlapping automaton re-reads only those
    places and reports every match there. Every occurrence of a needle starts with an occurrence of its anchor;
    a leftmost search hides an anchor occurrence only when it starts inside one it reported, so re-reading from
    the start of each hit to its end plus the longest needle finds every match: nothing is lost.

    Some anchors need no re-reading: a *self-contained* anchor is a whole needle that no other needle begins
    with or is a prefix of, and inside which no needle can start (no needle begins with one of its proper
    suffixes or lies inside one). Where it is reported, the one match starting within its span is itself, so it
    is taken as it is. Short magic numbers (a chance two-byte zlib header every 16 KiB of ciphertext) are the
    places most often reported, and most of them are self-contained.

    All passes run in the calling thread: splitting the groups over a helper thread (the crate releases the GIL)
    was measured on a 2-core machine at about 0.1 s less wall time per GiB for 0.1 s more CPU time.
    """

    GROUP = 64
    ANCHOR = 8  # bytes of each needle the locating passes look for (12 and 16 share fewer and measured slower)
    BUCKETS = 16  # Teddy's buckets in its AVX2 form (8 in its SSE form, used for up to 32 patterns)
    SINGLE_PASS_OVER = 512  # more needles than this: one overlapping NFA pass (grouped passes would be O(n * data))

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        by_needle: dict[bytes, list[Pattern]] = {}
        for pattern in patterns:
            by_needle.setdefault(pattern.needle, []).append(pattern)
        self.needles = list(by_needle)
        self.owners = [by_needle[n] for n in self.needles]
        self.longest = max((len(n) for n in self.needles), default=0)
        self._full: ahocorasick_rs.BytesAhoCorasick | None = None
        self._groups: list[tuple[ahocorasick_rs.BytesAhoCorasick, dict[int, int]]] = []
        if not self.needles:
            return
        # The full automaton only re-reads the few places the anchors point at (or, past SINGLE_PASS_OVER, scans
        # once): the contiguous NFA builds in a fraction of a DFA's time and has no size limit.
        self._full = ahocorasick_rs.BytesAhoCorasick(
            self.needles, implementation=ahocorasick_rs.Implementation.ContiguousNFA)
        if len(self.needles) > self.SINGLE_PASS_OVER:
            return  # thousands of canaries: one pass per group of 64 would make the scan grow with their number
        anchors = sorted({n[:self.ANCHOR] for n in self.needles})
        contained = _self_contained(self.needles)
        count = -(-len(anchors) // self.GROUP)
        size = -(-len(anchors) // count)
        for i in range(0, len(anchors), size):
            group = _bucketed(anchors[i:i + size], self.BUCKETS)
            automaton = ahocorasick_rs.BytesAhoCorasick(group, matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_FIRST)
            self._groups.append((automaton, {j: contained[a] for j, a in enumerate(group) if a in contained}))

    def hits(self, data: memoryview) -> list[tuple[int, int, int]]:
        """Every match of every pattern in ``data``, overlapping ones included: (pattern index, start, end), in
        order of position."""
        if self._full is None:
            return []
        if not self._groups:
            return sorted(set(self._full.find_matches_as_indexes(data, overlapping=True)), key=_by_position)
        found: set[tuple[int, int, int]] = set()
        places: list[tuple[int, int]] = []
        for group, contained in self._groups:
            for anchor, start, end in group.find_matches_as_indexes(data, overlapping=False):
                needle = contained.get(anchor)
                if needle is None:
                    places.append((start, end))
                else:
                    found.add((needle, start, end))
        if not places:
            return sorted(found, key=_by_position)
        places.sort()
        region_start, region_end = -1, -1
        for start, end in [*places, (len(data) + self.longest + 1, 0)]:
            if start > region_end:  # close the current region, re-read it with the full automaton
                if region_start >= 0:
                    for index, s, e in self._full.find_matches_as_indexes(data[region_start:region_end],
                                                                          overlapping=True):
                        found.add((index, region_start + s, region_start + e))
                region_start = start
            region_end = max(region_end if start <= region_end else 0, min(len(data), end + self.longest - 1))
        return sorted(found, key=_by_position)


def _self_contained(needles: list[bytes]) -> dict[bytes, int]:
    """The needles (as anchors, with their index) whose reported span can hold no other match start: no other
    needle begins with it or is a prefix of it, and none begins with (or lies inside) a proper suffix of it.
    Only needles no longer than an anchor qualify; prefixes are looked up in sets, so this stays linear."""
    whole = set(needles)
    prefixes: dict[bytes, int] = {}  # every prefix up to ANCHOR bytes -> how many needles begin with it
    for needle in needles:
        for k in range(1, min(len(needle), _Matcher.ANCHOR) + 1):
            prefixes[needle[:k]] = prefixes.get(needle[:k], 0) + 1

    def holds_a_needle(text: bytes) -> bool:  # some needle is a prefix of ``text``
        return any(text[:k] in whole for k in range(1, len(text) + 1))

    contained = {}
    for index, needle in enumerate(needles):
        if len(needle) > _Matcher.ANCHOR or prefixes[needle] != 1 or holds_a_needle(needle[:-1]):
            continue
        if any(needle[k:] in prefixes or holds_a_needle(needle[k:]) for k in range(1, len(needle))):
            continue
        contained[needle] = index
    return contained


def _bucketed(anchors: list[bytes], buckets: int) -> list[bytes]:
    """``anchors`` (sorted) reordered so that neighbours share a Teddy bucket.

    Teddy puts pattern ``i`` into bucket ``i % buckets`` (unless its first bytes' low nibbles match an earlier
    pattern's) and tests each bucket's first bytes as nibble sets: a bucket of similar anchors admits few other
    byte strings, a bucket of unlike ones admits many, each a false candidate to verify. Dealing the sorted
    anchors out in contiguous runs, one run per bucket, keeps alike anchors together; the set searched for is
    the same in any order, so this only changes speed (measured: about 15% fewer seconds per pass)."""
    buckets = buckets if len(anchors) > 32 else buckets // 2
    per = -(-len(anchors) // buckets)
    runs = [anchors[b * per:(b + 1) * per] for b in range(buckets)]
    return [run[j] for j in range(per) for run in runs if j < len(run)]


def _by_position(hit: tuple[int, int, int]) -> tuple[int, int, int]:
    """Hits in stream order: a decoder that claims the bytes of its stream (so magic numbers inside it are not
    decoded twice) must see the streams before it first, or it would claim them too."""
    index, start, end = hit
    return start, end, index


class _Engine:
    """Shared by every file of one inspection."""

    def __init__(self, detectors: Sequence[Detector], needles: Needles, limits: Limits,
                 result: InspectionResult) -> None:
        self.detectors = list(detectors)
        self.by_name = {d.name: d for d in self.detectors}
        self.limits = limits
        self.result = result
        self.budget = Budget(limits)
        patterns = [p for d in self.detectors for p in d.prepare(needles)]
        unknown = {p.owner for p in patterns} - set(self.by_name)
        if unknown:
            raise ValueError(f"patterns owned by unknown detector(s) {sorted(unknown)}")
        self.matcher = _Matcher(patterns)
        self.window_detectors = [d for d in self.detectors if d.scans_windows]
        self.overlap = max([self.matcher.longest - 1, 0, *(d.lookback() for d in self.detectors)])
        self._window_buffer: bytearray | None = None  # one per run: files are read one at a time

    def scan_stream(self, scope: Scope, stream: Stream, windows: Iterator[Window]) -> int:
        fresh_bytes = 0
        for window in windows:
            self.budget.tick()
            for index, start, end in self.matcher.hits(window.data):
                if end <= window.fresh:
                    continue  # whole in the overlap: reported by the previous window
                for pattern in self.matcher.owners[index]:
                    owner = self.by_name[pattern.owner]
                    if stream.raw or not owner.raw_only:
                        owner.matched(scope, stream, window, pattern, start, end)
            for detector in self.window_detectors:
                if stream.raw or not detector.raw_only:
                    detector.scan(scope, stream, window)
            fresh_bytes += len(window.data) - window.fresh
        return fresh_bytes

    def inspect_file(self, path: Path, root: Path) -> None:
        if not self.budget.run_time_left():
            self.result.mark_unreadable(str(path), f"not inspected: the per-run time budget of "
                                                   f"{self.limits.run_seconds:g} s is exhausted")
            return
        try:
            fd = open_regular(path)
        except OSError as exc:
            self.result.mark_unreadable(str(path), f"cannot open: {exc.strerror or exc}")
            return
        scope: FileScope | None = None
        try:
            scope = FileScope(self, path, root, fd)
            self.budget.start_file(scope.size)
            for detector in self.detectors:
                detector.begin_file(scope)
            os.lseek(fd, 0, os.SEEK_SET)
            raw = Stream(container=scope.kind, reader=scope.read_at)
            if self._window_buffer is None:
                self._window_buffer = bytearray(self.overlap + self.limits.window_bytes)
            self.result.bytes_read += self.scan_stream(scope, raw, file_windows(fd, self.limits.window_bytes,
                                                                                  self.overlap, self._window_buffer))
            for detector in self.detectors:
                detector.end_file(scope)
            self.result.files_read += 1
        except BudgetExceeded as exc:
            self.result.mark_unreadable(str(path), f"not fully inspected: {exc}")
        except OSError as exc:
            self.result.mark_unreadable(str(path), f"read failed: {exc.strerror or exc}")
        except Exception as exc:  # noqa: BLE001 - a decoder choking on hostile bytes must not stop the scan
            # Only the type: a decoder's message may quote the bytes it choked on, which may be a secret.
            self.result.mark_unreadable(str(path), f"inspection failed: {type(exc).__name__}")
        finally:
            if scope is not None:
                scope.flush()  # whatever stopped the scan, what was found so far is reported
            os.close(fd)


class FileScope(Scope):
    def __init__(self, engine: _Engine, path: Path, root: Path, fd: int) -> None:
        self._engine = engine
        self._fd = fd
        self.path = path
        self.rel = path.relative_to(root).as_posix()
        self.size = os.fstat(fd).st_size
        self.head = os.pread(fd, HEAD_BYTES, 0)
        self.tail = os.pread(fd, TAIL_BYTES, max(0, self.size - TAIL_BYTES)) if self.size else b""
        self.kind = "file"
        self.limits = engine.limits
        self.findings: list[Finding] = []
        self._counts: Counter[tuple[str, str, str]] = Counter()

    def report(self, stream: Stream, offset: int, label: str, encoding: str, *, detector: str,
               severity: Severity = "high", detail: str = "") -> None:
        key = (label, encoding, _POSITION.sub("", stream.container))  # one cap for all blocks of a kind
        self._counts[key] += 1
        if self._counts[key] > self.limits.findings_per_label:
            return
        if stream.raw:
            finding = Finding(str(self.path), offset, label, encoding, stream.container, severity, detector,
                              None, detail)
        else:
            finding = Finding(str(self.path), stream.origin or 0, label, encoding, stream.container, severity,
                              detector, offset, detail)
        self.findings.append(finding)

    def observe(self, detector: str, detail: str, **data: str | int | float) -> None:
        self._engine.result.observations.append(Observation(str(self.path), detector, detail, data))

    def unreadable(self, where: str, reason: str) -> None:
        self._engine.result.mark_unreadable(f"{self.path}#{where}", reason)

    def read_at(self, offset: int, size: int) -> bytes:
        return os.pread(self._fd, max(0, size), offset)

    def scan_decoded(self, chunks: Iterable[bytes], *, container: str, origin: int,
                     parent: Stream | None = None) -> int:
        depth = (parent.depth if parent else 0) + 1
        if depth > self.limits.max_depth:
            self.unreadable(container, f"nested more than {self.limits.max_depth} levels deep: not decoded")
            return 0
        spool = Spool(chunks, self.limits.spool_memory, self._engine.budget.spend)
        try:
            stream = Stream(container=container, origin=origin, depth=depth, reader=spool.read_at)
            scanned = self._engine.scan_stream(self, stream, chunk_windows(spool.chunks(self.limits.decode_chunk),
                                                                           self._engine.overlap))
        finally:
            spool.close()
        self._engine.result.decoded_bytes += scanned
        return scanned

    def flush(self) -> None:
        """Hand this file's findings to the result, noting how many repeats were only counted."""
        self._engine.result.findings.extend(self.findings)
        self.findings = []
        for (label, encoding, container), n in sorted(self._counts.items()):
            if n > self.limits.findings_per_label:
                self.observe("scan", f"{n - self.limits.findings_per_label} more hits of {label} ({encoding}) in "
                             f"{container} not listed", hits=n)


def inspect_tree(root: Path | str, *, canaries: Iterable[str] = (),
                 keys: Iterable[tuple[str, bytes | SecretBytes]] = (),
                 vectors: Iterable[Sequence[float]] = (), detectors: Sequence[Detector] | None = None,
                 limits: Limits | None = None, own_report: Path | str | None = None) -> InspectionResult:
    """Inspect every regular file under ``root`` for the given canaries, embedding canaries and keys.

    Raises ``NothingToFind`` when nothing is given to look for, ``BadRoot`` when ``root`` is not a directory,
    ``BadNeedle`` for a canary, vector or key too short or malformed to search for.

    ``own_report`` is where this run will write its report (``--output``): if that file is inside ``root`` and
    is a report this tool wrote (its digest verifies), it is skipped, never read. Any other file, including a
    report at another path or one whose digest does not verify, is inspected like every file.
    """
    needles = Needles.build(canaries, vectors, keys)
    if not needles:
        raise NothingToFind("nothing to look for: give at least one canary, vector canary or key")
    root = Path(root)
    if not root.is_dir():
        raise BadRoot(f"{root} is not a directory")
    root = root.resolve()
    result = InspectionResult(root=str(root))
    engine = _Engine(detectors if detectors is not None else default_detectors(), needles, limits or Limits(),
                     result)

    def skipped(path: Path, reason: str) -> None:
        result.skipped.append(str(path))
        result.observations.append(Observation(str(path), "walk", reason))

    def failed(path: Path, reason: str) -> None:
        result.mark_unreadable(str(path), reason)

    own = None if own_report is None else Path(own_report).parent.resolve() / Path(own_report).name
    for path in iter_files(root, skipped=skipped, failed=failed):
        if own is not None and path == own and is_own_report(path):
            skipped(path, "this run's --output: a report written by aico-secure inspect (digest verified), "
                    "replaced by this run's report")
            continue
        engine.inspect_file(path, root)
    return result
