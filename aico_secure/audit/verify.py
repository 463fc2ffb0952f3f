"""Verification: read a log as found on disk and report every modified, deleted, reordered, inserted, truncated
or rolled-back entry, with its position.

How the verdict is reached, and why it can locate problems rather than just say "broken":

1. Every line is authenticated on its own (its MAC names its sequence number, its predecessor's MAC, this log
   and its body), then its body is opened. Lines that pass are *authentic*: written by the holder of the audit
   key as entry ``seq`` of this log. Nothing in a line that fails is trusted, not even the sequence number it
   claims.
2. The longest run of authentic entries whose sequence numbers increase in file order is the *backbone*: the
   entries that are where they belong. Authentic entries off the backbone were moved (``reordered``) or are
   copies of entries that are present anyway (``inserted``).
3. Between two backbone entries, the sequence numbers missing from the whole file are matched with the
   unauthentic lines lying there: a bad line in a gap took the place of a missing entry (``modified``); a
   missing entry with no line left in its place was ``deleted``; a bad line with no gap to fill was
   ``inserted``. After the last backbone entry, entries the checkpoint says exist but that are gone were
   ``truncated``.
4. The checkpoint must authenticate, belong to this log and match the entry it names. Complete, authentic
   entries after it are accepted with a warning (the crash window between an append and its checkpoint); a
   partial line after it is reported (``inserted``): it may be a crash artefact, but bytes were added.
5. With a rollback anchor (``anchor.py``): a checkpoint naming fewer entries than the anchor was rolled back,
   and entries the anchor says exist but that are in neither the log nor the checkpoint are reported
   ``truncated`` at the end, as rolled back.

Positions are 0-based indexes among the entry lines of the file as found (the header is not an entry); a
missing entry is placed at the index of the next surviving entry, or at the end.

Why the memory stays bounded on hostile input: the file is streamed line by line with a size cap checked
before anything is allocated (``reader.py``); an authentic entry costs a few fixed-size columns (about 100
bytes, no objects); consecutive unauthentic lines are kept as one run (start, count), with the offset and the
reason of only the first ``MAX_DETAILED_BAD`` of them; consecutive missing entries and consecutive inserted
lines are reported as one problem each; and at most ``MAX_PROBLEMS`` problems are listed, the rest counted in
``omitted``. So a log with hundreds of MB of garbage appended costs what its authentic entries cost.
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aico_secure.audit import checkpoint as cp
from aico_secure.audit import record
from aico_secure.audit.anchor import AnchorError, RollbackAnchor
from aico_secure.audit.chain import HEADER_PREFIX, MAC_BYTES, genesis, header_mac, parse_entry, parse_header, same
from aico_secure.audit.chain import entry_mac as compute_mac
from aico_secure.audit.codec import BodyUnreadable, EntryCodec
from aico_secure.audit.errors import InvalidAuditEvent
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import checkpoint_path, log_path
from aico_secure.audit.logkeys import LogKeys
from aico_secure.audit.reader import Line, LogFileMissing, LogFileUnreadable, lines, open_regular
from aico_secure.target.audit import ProblemKind

MAX_PROBLEMS = 1000  # problems listed one by one; the rest are counted in ``omitted``
MAX_DETAILED_BAD = 4096  # unauthentic lines whose byte offset and reason are remembered

_MALFORMED = "not a well-formed entry line"
_TOO_LONG = "longer than any entry can be"
_UNKNOWN_KEY = "MACed with a key this keyring does not hold"
_BAD_MAC = "MAC does not verify"
_NOT_FIRST = "claims to be the first entry but does not start this log's chain"
_UNDETAILED = "not an entry of this log"


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    position: int  # entry index in the file as found; -1 for the log as a whole
    offset: int  # byte offset in audit.log; -1 when there is no such place (or it was not remembered)
    detail: str


@dataclass
class _Authentic:
    """The authentic lines, as columns: no object per entry, so a flood of copies costs ~100 bytes each."""

    seqs: array[int] = field(default_factory=lambda: array("q"))
    positions: array[int] = field(default_factory=lambda: array("q"))
    offsets: array[int] = field(default_factory=lambda: array("q"))
    macs: bytearray = field(default_factory=bytearray)  # prev | mac, 2 * MAC_BYTES per entry
    events: list[AuditEvent] | None = None

    def add(self, seq: int, position: int, offset: int, prev: bytes, mac: bytes, event: AuditEvent) -> None:
        self.seqs.append(seq)
        self.positions.append(position)
        self.offsets.append(offset)
        self.macs += prev + mac
        if self.events is not None:
            self.events.append(event)

    def prev(self, i: int) -> bytes:
        return bytes(self.macs[2 * MAC_BYTES * i : 2 * MAC_BYTES * i + MAC_BYTES])

    def mac(self, i: int) -> bytes:
        return bytes(self.macs[2 * MAC_BYTES * i + MAC_BYTES : 2 * MAC_BYTES * (i + 1)])

    def __len__(self) -> int:
        return len(self.seqs)


@dataclass
class _BadRuns:
    """Unauthentic lines as runs of consecutive positions; details of only the first ``MAX_DETAILED_BAD``."""

    starts: array[int] = field(default_factory=lambda: array("q"))
    counts: array[int] = field(default_factory=lambda: array("q"))
    first_offsets: array[int] = field(default_factory=lambda: array("q"))
    details: dict[int, tuple[int, str]] = field(default_factory=dict)  # position -> (offset, why)

    def add(self, position: int, offset: int, why: str) -> None:
        if self.starts and self.starts[-1] + self.counts[-1] == position:
            self.counts[-1] += 1
        else:
            self.starts.append(position)
            self.counts.append(1)
            self.first_offsets.append(offset)
        if len(self.details) < MAX_DETAILED_BAD:
            self.details[position] = (offset, why)

    def between(self, low: int, high: int) -> list[tuple[int, int, int]]:
        """``(start, count, first offset)`` of the runs lying strictly between positions low and high (runs never
        straddle an authentic line, so each lies wholly inside one gap)."""
        i = bisect.bisect_right(self.starts, low)
        out = []
        while i < len(self.starts) and self.starts[i] < high:
            out.append((self.starts[i], self.counts[i], self.first_offsets[i]))
            i += 1
        return out

    def line(self, position: int, run_start: int, run_offset: int) -> tuple[int, str]:
        """Offset and reason of the bad line at ``position`` (offset -1 if it was not remembered)."""
        found = self.details.get(position)
        if found is not None:
            return found
        return (run_offset if position == run_start else -1), _UNDETAILED


@dataclass
class Verification:
    problems: list[Problem] = field(default_factory=list)
    omitted: int = 0  # problems found beyond MAX_PROBLEMS, not listed
    warnings: list[str] = field(default_factory=list)
    lines: int = 0  # entry lines in the file
    log_id: bytes | None = None
    checkpoint_count: int | None = None
    anchor_count: int | None = None  # what the rollback anchor records; None when there is no anchor
    rolled_back: bool = False
    unreadable: str | None = None  # why the log (or the anchor) could not be read at all: not a verdict
    header_end: int = 0
    header_ok: bool = False
    damaged_slot: bool = False  # exactly one checkpoint slot failed: what a crash mid-write leaves
    torn_tail: int | None = None  # offset of a partial last line after the checkpoint (a crash mid-append?)
    head: tuple[int, bytes] | None = None  # (seq, MAC) of the last backbone entry
    authentic: int = 0  # entries on the backbone: authentic and in place
    _events: list[AuditEvent] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.omitted and self.log_id is not None

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.omitted += 1

    def events(self) -> list[AuditEvent]:
        """The backbone's events; only when ``verify_log`` kept them (an empty list would read as "no events")."""
        if self._events is None:
            raise ValueError("this verification did not keep the events (keep_events=False)")
        return list(self._events)

    def describe(self) -> list[str]:
        out = [f"{'entry ' + str(p.position) if p.position >= 0 else 'log'}"
               f"{f' (byte {p.offset})' if p.offset >= 0 else ''}: {p.kind}: {p.detail}" for p in self.problems]
        if self.omitted:
            out.append(f"... and {self.omitted} more problem(s) not listed (at most {MAX_PROBLEMS} are)")
        return out


def _read_line(line: Line, log_id: bytes, keys: LogKeys,
               codec: EntryCodec) -> tuple[str, None] | tuple[None, tuple[int, bytes, bytes, AuditEvent]]:
    """``(why, None)`` for an unauthentic line, ``(None, (seq, prev, mac, event))`` for an authentic one."""
    if line.data is None:
        return _TOO_LONG, None
    parsed = parse_entry(line.data)
    if parsed is None:
        return _MALFORMED, None
    key = keys.mac_key_by_id(parsed.key_id)
    if key is None:
        return _UNKNOWN_KEY, None
    if not same(compute_mac(key, log_id, parsed.seq, parsed.prev, parsed.body), parsed.mac):
        return _BAD_MAC, None
    try:
        event = record.from_bytes(codec.decode(parsed.body, log_id, parsed.seq))
    except (BodyUnreadable, InvalidAuditEvent) as exc:
        return f"MAC verifies but the body does not open ({type(exc).__name__})", None
    if parsed.seq == 1 and not same(parsed.prev, genesis(key, log_id)):
        return _NOT_FIRST, None
    return None, (parsed.seq, parsed.prev, parsed.mac, event)


def _backbone(seqs: array[int]) -> list[int]:
    """Indexes of the longest strictly increasing run of sequence numbers in file order (patience sorting,
    O(n log n)); among equal sequence numbers the earliest copy is kept."""
    tails: list[int] = []  # seq ending the best run of each length
    tail_idx: list[int] = []
    parent = array("q", bytes(8 * len(seqs)))
    for i, seq in enumerate(seqs):
        k = bisect.bisect_left(tails, seq)
        if k < len(tails) and tails[k] == seq:
            continue
        parent[i] = tail_idx[k - 1] if k else -1
        if k == len(tails):
            tails.append(seq)
            tail_idx.append(i)
        else:
            tails[k] = seq
            tail_idx[k] = i
    chain, i = [], tail_idx[-1] if tail_idx else -1
    while i >= 0:
        chain.append(i)
        i = parent[i]
    return chain[::-1]


def _is_header(line: Line | None) -> bool:
    """The first line is the header line (intact or not) when it starts like one; entry lines start with a
    digit, so the two are never confused."""
    return line is not None and line.prefix.startswith(HEADER_PREFIX)


def _header(first: Line | None, keys: LogKeys, result: Verification) -> bytes | None:
    header = parse_header(first.data) if first is not None and first.data is not None and _is_header(first) \
        else None
    key = keys.mac_key_by_id(header.key_id) if header else None
    if first is not None and _is_header(first):
        result.header_end = first.length
    if header and key and same(header.mac, header_mac(key, header.log_id)):
        result.header_ok = True
        return header.log_id
    result.add(Problem("unreadable", -1, 0, "the log header is missing, damaged or was written with keys this "
                       "keyring does not hold"))
    return None


def _check_checkpoint(directory: Path, keys: LogKeys, log_id: bytes | None,
                      result: Verification) -> cp.Checkpoint | None:
    """The newest authentic checkpoint of this log. Both slots must be authentic and consistent; a damaged
    slot is a problem, but the intact one still bounds truncation."""
    slots = cp.read(checkpoint_path(directory))
    if slots is None:
        result.add(Problem("unreadable", -1, -1, "the checkpoint is missing or damaged: truncation of the log "
                           "cannot be ruled out"))
        return None
    good: list[cp.Checkpoint] = []
    for point in slots:
        key = keys.mac_key_by_id(point.key_id) if point else None
        if point is not None and key is not None and point.authentic(key) and point.log_id == (log_id or
                                                                                               point.log_id):
            good.append(point)
    if not good:
        result.add(Problem("unreadable", -1, -1, "no checkpoint slot authenticates for this log: truncation of "
                           "the log cannot be ruled out"))
        return None
    newest, older = max(good, key=lambda p: p.count), min(good, key=lambda p: p.count)
    if len(good) != len(slots):
        result.damaged_slot = True
        result.add(Problem("unreadable", -1, -1, "a checkpoint slot is damaged or does not authenticate (a "
                           "crash while writing it, or an edit)"))
    elif newest.log_id != older.log_id or newest.count - older.count not in (0, 1) or (
            newest.count == older.count and newest != older):
        result.add(Problem("unreadable", -1, -1, "the two checkpoint slots contradict each other"))
    result.checkpoint_count = newest.count
    return newest


@dataclass
class _Scan:
    authentic: _Authentic
    bad: _BadRuns
    lines: int = 0
    last: Line | None = None


def _scan(entries: Iterable[Line], log_id: bytes, keys: LogKeys, codec: EntryCodec, keep_events: bool) -> _Scan:
    scan = _Scan(_Authentic(events=[] if keep_events else None), _BadRuns())
    for position, line in enumerate(entries):
        why, good = _read_line(line, log_id, keys, codec)
        if good is None:
            scan.bad.add(position, line.offset, why or _MALFORMED)
        else:
            seq, prev, mac, event = good
            scan.authentic.add(seq, position, line.offset, prev, mac, event)
        scan.lines, scan.last = position + 1, line
    return scan


def _missing(low: int, high: int, present: array[int]) -> list[tuple[int, int]]:
    """Inclusive ranges of sequence numbers in ``[low, high]`` absent from ``present`` (sorted, distinct)."""
    ranges, cur, i = [], low, bisect.bisect_left(present, low)
    while cur <= high:
        nxt = present[i] if i < len(present) and present[i] <= high else high + 1
        if nxt > cur:
            ranges.append((cur, nxt - 1))
        cur, i = nxt + 1, i + 1
    return ranges


def _seqs_of(ranges: list[tuple[int, int]]) -> Iterator[int]:
    for low, high in ranges:
        yield from range(low, high + 1)


def _take(ranges: list[tuple[int, int]], skip: int) -> list[tuple[int, int]]:
    """``ranges`` without their first ``skip`` sequence numbers."""
    out = []
    for low, high in ranges:
        size = high - low + 1
        if skip >= size:
            skip -= size
            continue
        out.append((low + skip, high))
        skip = 0
    return out


def _seq_text(low: int, high: int) -> str:
    return f"the entry with sequence #{low} is" if low == high else \
        f"the {high - low + 1} entries with sequence #{low} to #{high} are"


def _classify(scan: _Scan, point: cp.Checkpoint | None, result: Verification, header_end: int) -> list[int]:
    """Fill ``result`` with every problem; returns the backbone (indexes into ``scan.authentic``)."""
    auth = scan.authentic
    backbone = _backbone(auth.seqs)
    placed_seqs = array("q", (auth.seqs[i] for i in backbone))  # strictly increasing
    on_backbone = bytearray(len(auth))
    for i in backbone:
        on_backbone[i] = 1
    present = array("q", sorted(set(auth.seqs)))
    moved: set[int] = set()
    for i in range(len(auth)):
        if on_backbone[i]:
            continue
        seq = auth.seqs[i]
        k = bisect.bisect_left(placed_seqs, seq)
        if (k < len(placed_seqs) and placed_seqs[k] == seq) or seq in moved:
            result.add(Problem("inserted", auth.positions[i], auth.offsets[i],
                               f"a second copy of the entry with sequence #{seq}"))
        else:
            moved.add(seq)
            result.add(Problem("reordered", auth.positions[i], auth.offsets[i],
                               f"the entry with sequence #{seq} is out of order"))
    for a, b in itertools.pairwise(backbone):
        if auth.seqs[b] == auth.seqs[a] + 1 and not same(auth.prev(b), auth.mac(a)):
            result.add(Problem("modified", auth.positions[b], auth.offsets[b],
                               f"sequence #{auth.seqs[b]} does not chain to #{auth.seqs[a]} (a forked log)"))
    anchored = point.count if point else 0
    top = max(anchored, present[-1]) if present else anchored
    n = scan.lines
    end_of_file = scan.last.end if scan.last is not None else header_end
    bounds = [(0, -1, -1), *((auth.seqs[i], auth.positions[i], auth.offsets[i]) for i in backbone),
              (top + 1, n, end_of_file)]
    for (seq_a, pos_a, _), (seq_b, pos_b, off_b) in itertools.pairwise(bounds):
        _gap(scan, result, seq_a, pos_a, seq_b, pos_b, off_b, present)
    if point is not None:
        k = bisect.bisect_left(placed_seqs, point.count)
        if point.count and k < len(placed_seqs) and placed_seqs[k] == point.count \
                and not same(auth.mac(backbone[k]), point.head):
            result.add(Problem("unreadable", -1, -1, f"the checkpoint does not match sequence #{point.count}"))
        beyond = len(placed_seqs) - bisect.bisect_right(placed_seqs, point.count)
        if beyond:
            result.warnings.append(f"{beyond} entr{'y' if beyond == 1 else 'ies'} after the last checkpoint "
                                   "(an append interrupted by a crash?)")
    return backbone


def _gap(scan: _Scan, result: Verification, seq_a: int, pos_a: int, seq_b: int, pos_b: int, off_b: int,
         present: array[int]) -> None:
    """Problems between two neighbouring backbone entries (or the start / the end of the log)."""
    tail = pos_b == scan.lines
    missing = _missing(seq_a + 1, seq_b - 1, present) if seq_b - seq_a > 1 else []
    n_missing = sum(high - low + 1 for low, high in missing)
    runs = scan.bad.between(pos_a, pos_b)
    n_bad = sum(count for _, count, _ in runs)
    last = scan.last
    torn = tail and last is not None and not last.complete and runs and runs[-1][0] + runs[-1][1] == scan.lines \
        and n_bad > n_missing
    matched = min(n_bad, n_missing)
    # A bad line in a gap took a missing entry's place: modified (truncated when it is the cut-off last line).
    lines_in_order = ((pos, *scan.bad.line(pos, start, offset)) for start, count, offset in runs
                      for pos in range(start, start + count))
    for done, ((pos, offset, why), seq) in enumerate(zip(lines_in_order, _seqs_of(missing), strict=False)):
        if done >= matched:
            break
        if len(result.problems) >= MAX_PROBLEMS:  # counting the rest needs no iteration
            result.omitted += matched - done
            break
        cut = tail and last is not None and pos == scan.lines - 1 and not last.complete
        result.add(Problem("truncated" if cut else "modified", pos, offset, f"sequence #{seq}: {why}"))
    # Missing entries with no line in their place: deleted (truncated after the last backbone entry).
    gone: ProblemKind = "truncated" if tail else "deleted"
    for low, high in _take(missing, matched):
        result.add(Problem(gone, pos_b, off_b, f"{_seq_text(low, high)} missing"))
    # Bad lines with no missing entry to stand for: inserted, one problem per run of consecutive lines.
    skip = matched
    for start, count, offset in runs:
        if skip >= count:
            skip -= count
            continue
        first, last_pos = start + skip, start + count - 1
        skip = 0
        if torn and last_pos == scan.lines - 1:
            assert last is not None
            result.torn_tail = last.offset  # the writer may cut this off when it reopens the log
            result.add(Problem("inserted", last_pos, last.offset, "a partial entry after the last checkpoint: "
                               "an append cut short by a crash, or bytes added by someone else"))
            last_pos -= 1
            if last_pos < first:
                continue
        line_offset, why = scan.bad.line(first, start, offset)
        if first == last_pos:
            result.add(Problem("inserted", first, line_offset, f"not an entry of this log: {why}"))
        else:
            result.add(Problem("inserted", first, line_offset, f"{last_pos - first + 1} lines (entries {first} to "
                               f"{last_pos}) that are not entries of this log; the first: {why}"))


def _check_anchor(anchor: RollbackAnchor | None, log_id: bytes, point: cp.Checkpoint | None, scan: _Scan | None,
                  result: Verification) -> None:
    """Rollback: the anchor records more entries than the checkpoint (and the log) show."""
    if anchor is None:
        return
    try:
        recorded = anchor.get(log_id)
    except AnchorError as exc:
        result.unreadable = str(exc)
        result.add(Problem("unreadable", -1, -1, f"{exc}: a rollback of the log cannot be ruled out"))
        return
    result.anchor_count = recorded
    count = point.count if point is not None else None
    if count is not None and count < recorded:
        result.rolled_back = True
        result.add(Problem("unreadable", -1, -1, f"rolled back: the checkpoint names {count} entries but the "
                           f"keyring's rollback anchor records {recorded} (an older copy was restored)"))
    highest = max(scan.authentic.seqs) if scan is not None and len(scan.authentic) else 0
    have = max(highest, count or 0)
    if have < recorded:
        result.rolled_back = True
        position = scan.lines if scan is not None else -1
        end = scan.last.end if scan is not None and scan.last is not None else result.header_end
        result.add(Problem("truncated", position, end if position >= 0 else -1,
                           f"rolled back: {_seq_text(have + 1, recorded)} missing; the keyring's rollback anchor "
                           f"records {recorded} entries (an older copy of the log was restored)"))


def verify_log(directory: Path, keys: LogKeys, codec: EntryCodec, *, anchor: RollbackAnchor | None = None,
               keep_events: bool = True) -> Verification:
    """Verify the log in ``directory``. Never raises for damage, hostile content or an unreadable file: every
    finding is in the result. ``anchor`` adds rollback detection; ``keep_events`` keeps the backbone's events
    (what ``AuditLog.events`` returns), which costs memory in proportion to the log: a verdict alone (the CLI,
    ``open``) passes False."""
    result = Verification()
    try:
        with open_regular(log_path(directory)) as handle:
            stream = lines(handle)
            first = next(stream, None)
            log_id = _header(first, keys, result)
            point = _check_checkpoint(directory, keys, log_id, result)
            if log_id is None and point is not None:
                log_id = point.log_id  # the checkpoint authenticated: it still tells which log this is
            if log_id is None:
                return result
            result.log_id = log_id
            entries: Iterable[Line] = stream if _is_header(first) or first is None else \
                itertools.chain([first], stream)
            scan = _scan(entries, log_id, keys, codec, keep_events)
    except LogFileMissing:
        result.unreadable = "there is no audit log in that directory"
        result.add(Problem("unreadable", -1, -1, f"no audit log in {directory}"))
        return result
    except LogFileUnreadable as exc:
        result.unreadable = f"the audit log cannot be read: {exc}"
        result.add(Problem("unreadable", -1, -1, f"the audit log in {directory} cannot be read: {exc}"))
        return result
    result.lines = scan.lines
    backbone = _classify(scan, point, result, result.header_end)
    _check_anchor(anchor, log_id, point, scan, result)
    result.authentic = len(backbone)
    if backbone:
        result.head = (scan.authentic.seqs[backbone[-1]], scan.authentic.mac(backbone[-1]))
    if scan.authentic.events is not None:
        result._events = [scan.authentic.events[i] for i in backbone]
    return result


def entry_spans(directory: Path) -> list[tuple[int, int]]:
    """Byte ranges of the entry lines (everything after the header line), whether they verify or not."""
    try:
        with open_regular(log_path(directory)) as handle:
            stream = lines(handle)
            first = next(stream, None)
            spans = [] if first is None or _is_header(first) else [(first.offset, first.end)]
            spans += [(line.offset, line.end) for line in stream]
    except LogFileMissing as exc:
        raise FileNotFoundError(str(exc)) from None
    return spans
