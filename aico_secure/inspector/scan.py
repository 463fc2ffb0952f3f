"""The orchestrator: walk the tree, stream each file once through every detector, collect the verdict.

One Aho-Corasick automaton (a DFA, built once from the literal patterns of all detectors) is run over each
window; hits go to the detector owning the pattern. Detectors that decode something (compressed streams,
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
    leftmost, non-overlapping searches over at most ``GROUP`` patterns. So the search runs in two stages:
    groups of up to 64 patterns find *where* something matched (several GB/s, one pass per group), then a
    complete overlapping automaton (a DFA over every pattern) re-reads only those places and reports every
    match there. A leftmost search can hide a match only if it starts inside one it reported, so re-reading
    from the start of each hit to its end plus the longest pattern finds every match: nothing is lost.
    """

    GROUP = 64
    SINGLE_PASS_OVER = 512  # more needles than this: one overlapping NFA pass (grouped passes would be O(n * data))

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        by_needle: dict[bytes, list[Pattern]] = {}
        for pattern in patterns:
            by_needle.setdefault(pattern.needle, []).append(pattern)
        self.needles = list(by_needle)
        self.owners = [by_needle[n] for n in self.needles]
        self.longest = max((len(n) for n in self.needles), default=0)
        self._full: ahocorasick_rs.BytesAhoCorasick | None = None
        self._groups: list[ahocorasick_rs.BytesAhoCorasick] = []
        if len(self.needles) > self.SINGLE_PASS_OVER:
            # Thousands of canaries: a DFA would take gigabytes and one pass per group of 64 would make the scan
            # time grow with the number of canaries. The contiguous NFA stays small and scans once.
            self._full = ahocorasick_rs.BytesAhoCorasick(
                self.needles, implementation=ahocorasick_rs.Implementation.ContiguousNFA)
        elif self.needles:
            try:
                self._full = ahocorasick_rs.BytesAhoCorasick(self.needles,
                                                             implementation=ahocorasick_rs.Implementation.DFA)
            except ValueError:  # too many patterns for a DFA: the NFA is slower but has no size limit
                self._full = ahocorasick_rs.BytesAhoCorasick(self.needles)
            self._groups = [ahocorasick_rs.BytesAhoCorasick(self.needles[i:i + self.GROUP],
                                                            matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_FIRST)
                            for i in range(0, len(self.needles), self.GROUP)]

    def hits(self, data: memoryview) -> list[tuple[int, int, int]]:
        """Every match of every pattern in ``data``, overlapping ones included: (pattern index, start, end), in
        order of position."""
        if self._full is None:
            return []
        if not self._groups:
            return sorted(set(self._full.find_matches_as_indexes(data, overlapping=True)), key=_by_position)
        places = sorted((start, end) for group in self._groups
                        for _i, start, end in group.find_matches_as_indexes(data, overlapping=False))
        found: set[tuple[int, int, int]] = set()
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
            self.result.bytes_read += self.scan_stream(scope, raw, file_windows(fd, self.limits.window_bytes,
                                                                                  self.overlap))
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
