"""The one interface every detector implements, and what a detector is handed while a file is scanned.

The scan is a single streaming pass per byte stream: the orchestrator reads a file in overlapping windows, runs
one Aho-Corasick pass over each window for the literal patterns of *all* detectors, hands each hit to the
detector that owns the pattern (``matched``), then lets each detector look at the window itself (``scan``)
for what literals cannot express (floats within a tolerance, entropy). Detectors that understand a container
(SQLite, DuckDB, an SST, a compressed stream) decode it and feed the decoded bytes back through
``Scope.scan_decoded``, so a canary inside a snappy block is matched by exactly the same patterns as one in a
plain file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from aico_secure.inspector.model import Finding, Severity
from aico_secure.inspector.needles import Needles, Pattern


@dataclass(frozen=True)
class Limits:
    """Bounds that keep memory flat and the work proportional to the input, whatever the input.

    Hitting any of them never yields "clean": the file (or the part of it) is reported as not fully inspected,
    with the reason, and the verdict is then incomplete (exit 2) unless something was found.
    """

    window_bytes: int = 4 << 20  # bytes read per window (plus the overlap carried from the previous one)
    decode_cap: int = 64 << 20  # decoded bytes inspected per compressed stream or container; the rest is reported
    decode_chunk: int = 1 << 20  # decoded bytes produced per step
    max_depth: int = 8  # nesting of decoded streams (gzip in gzip in ... ); deeper ones are reported, not decoded
    probe_bytes: int = 16 << 20  # files up to this size are probed as whole raw snappy / lz4 / deflate blocks
    findings_per_label: int = 20  # per file, label, encoding and container; the rest are counted
    file_decode_bytes: int = 256 << 20  # decoded bytes per file: at least this, or ``decode_ratio`` x its size
    run_decode_bytes: int = 2 << 30  # decoded bytes per run: at least this, or ``decode_ratio`` x bytes met so far
    decode_ratio: int = 4  # how much more than its own size a file (or the run) may decode
    file_seconds: float = 300.0  # wall-clock time per file, decoding included
    run_seconds: float | None = None  # wall-clock time per run (None: no run-wide limit; files stay bounded)
    spool_memory: int = 4 << 20  # decoded bytes kept in memory per stream before spilling to a temporary file
    cell_stream_bytes: int = 32 << 20  # SQLite files larger than this are read cell by cell through blob handles

    def file_decode_budget(self, size: int) -> int:
        return max(self.file_decode_bytes, self.decode_ratio * size)

    def run_decode_budget(self, seen: int) -> int:
        return max(self.run_decode_bytes, self.decode_ratio * seen)


@dataclass
class Stream:
    """A byte stream under scan: a file's own bytes (``origin is None``) or bytes decoded from something in it."""

    container: str  # "file", "json", "sqlite", "zlib@120", "rocksdb-sst:block@4096/snappy", ...
    origin: int | None = None  # file offset of the stream or container the bytes were decoded from
    depth: int = 0
    state: dict[str, Any] = field(default_factory=dict)  # per-detector state for this stream
    reader: Callable[[int, int], bytes] | None = None  # random access to the whole stream (read ahead of the window)

    @property
    def raw(self) -> bool:
        return self.origin is None


@dataclass(frozen=True)
class Window:
    """``data[fresh:]`` are bytes not seen before; ``data[:fresh]`` repeat the end of the previous window so a
    match straddling two reads is still whole in one. ``data`` is only valid during the call."""

    data: memoryview
    start: int  # stream offset of data[0]
    fresh: int
    final: bool


class Scope(ABC):
    """One file being inspected, as detectors see it."""

    path: Path
    rel: str  # path relative to the inspected root, as reported
    size: int
    head: bytes  # the first bytes of the file (up to 64 KiB), for sniffing
    tail: bytes  # the last bytes of the file (up to 64 bytes), for footers
    kind: str  # what the file is, set by sniffing detectors: "file", "sqlite", "json", ...
    limits: Limits
    findings: list[Finding]  # this file's findings so far (``end_file`` may annotate them)

    @abstractmethod
    def report(self, stream: Stream, offset: int, label: str, encoding: str, *, detector: str,
               severity: Severity = "high", detail: str = "") -> None:
        """Record a finding at ``offset`` of ``stream``."""

    @abstractmethod
    def observe(self, detector: str, detail: str, **data: str | int | float) -> None:
        """Record supporting evidence about this file."""

    @abstractmethod
    def unreadable(self, where: str, reason: str) -> None:
        """Part of the file could not be inspected (the scan is then not clean)."""

    @abstractmethod
    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes of the file from ``offset`` (bounded reads for footers, blocks, streams)."""

    @abstractmethod
    def scan_decoded(self, chunks: Iterable[bytes], *, container: str, origin: int,
                     parent: Stream | None = None) -> int:
        """Scan decoded bytes with every detector that reads decoded data; returns how many bytes were scanned.
        ``origin`` is the file offset reported for findings in them; ``parent`` the stream they came from."""


class Detector(ABC):
    """One kind of evidence. Instantiate per inspection; one instance sees every file in turn."""

    name: ClassVar[str]
    raw_only: ClassVar[bool] = False  # only a file's own bytes, never decoded ones
    scans_windows: ClassVar[bool] = False  # ``scan`` does work (skipped otherwise, to keep the pass fast)

    def prepare(self, needles: Needles) -> list[Pattern]:
        """Called once: literal patterns for the shared pass (their ``owner`` must be this detector's name)."""
        return []

    def lookback(self) -> int:
        """Bytes of the previous window ``scan`` needs to see again (literal patterns are handled already)."""
        return 0

    def begin_file(self, scope: Scope) -> None:
        """Before the file's bytes are streamed: sniff, set ``scope.kind``, reset per-file state."""
        return None

    def matched(self, scope: Scope, stream: Stream, window: Window, pattern: Pattern, start: int, end: int) -> None:
        """One of this detector's patterns matched ``window.data[start:end]``."""
        scope.report(stream, window.start + start, pattern.label, pattern.encoding, detector=self.name)

    def scan(self, scope: Scope, stream: Stream, window: Window) -> None:
        """Look at a window directly (only called when ``scans_windows``)."""
        return None

    def end_file(self, scope: Scope) -> None:
        """After the file's bytes were streamed: decode containers, summarise evidence."""
        return None
