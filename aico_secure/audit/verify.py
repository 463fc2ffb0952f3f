"""Verification: read a log as found on disk and report every modified, deleted, reordered, inserted or
truncated entry, with its position.

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

Positions are 0-based indexes among the entry lines of the file as found (the header is not an entry); a
missing entry is placed at the index of the next surviving entry, or at the end.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from aico_secure.audit import checkpoint as cp
from aico_secure.audit import record
from aico_secure.audit.chain import HEADER_PREFIX, genesis, header_mac, parse_entry, parse_header, same, split_lines
from aico_secure.audit.chain import entry_mac as compute_mac
from aico_secure.audit.codec import BodyUnreadable, EntryCodec
from aico_secure.audit.errors import InvalidAuditEvent
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import checkpoint_path, log_path
from aico_secure.audit.logkeys import LogKeys
from aico_secure.target.audit import ProblemKind


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    position: int  # entry index in the file as found; -1 for the log as a whole
    offset: int  # byte offset in audit.log; -1 when there is no such place
    detail: str


@dataclass(frozen=True)
class Slot:
    """One entry line of the file, authentic or not."""

    position: int
    offset: int
    end: int
    complete: bool  # ends with a newline
    seq: int = 0
    prev: bytes = b""
    mac: bytes = b""
    event: AuditEvent | None = None
    why: str = ""  # why an unauthentic line failed

    @property
    def authentic(self) -> bool:
        return self.event is not None


@dataclass
class Verification:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    backbone: list[Slot] = field(default_factory=list)  # authentic entries in place, oldest first
    lines: int = 0  # entry lines in the file
    log_id: bytes | None = None
    checkpoint_count: int | None = None
    header_end: int = 0
    header_ok: bool = False
    damaged_slot: bool = False  # exactly one checkpoint slot failed: what a crash mid-write leaves
    torn_tail: int | None = None  # offset of a partial last line after the checkpoint (a crash mid-append?)

    @property
    def ok(self) -> bool:
        return not self.problems and self.log_id is not None

    @property
    def authentic(self) -> int:
        return len(self.backbone)

    def events(self) -> list[AuditEvent]:
        return [s.event for s in self.backbone if s.event is not None]

    def describe(self) -> list[str]:
        return [f"{'entry ' + str(p.position) if p.position >= 0 else 'log'}"
                f"{f' (byte {p.offset})' if p.offset >= 0 else ''}: {p.kind}: {p.detail}" for p in self.problems]


def _read_slot(position: int, offset: int, line: bytes, log_id: bytes, keys: LogKeys, codec: EntryCodec) -> Slot:
    def bad(why: str) -> Slot:
        return Slot(position, offset, offset + len(line), line.endswith(b"\n"), why=why)

    parsed = parse_entry(line)
    if parsed is None:
        return bad("not a well-formed entry line")
    key = keys.mac_key_by_id(parsed.key_id)
    if key is None:
        return bad("MACed with a key this keyring does not hold")
    if not same(compute_mac(key, log_id, parsed.seq, parsed.prev, parsed.body), parsed.mac):
        return bad("MAC does not verify")
    try:
        event = record.from_bytes(codec.decode(parsed.body, log_id, parsed.seq))
    except (BodyUnreadable, InvalidAuditEvent) as exc:
        return bad(f"MAC verifies but the body does not open ({type(exc).__name__})")
    if parsed.seq == 1 and not same(parsed.prev, genesis(key, log_id)):
        return bad("claims to be the first entry but does not start this log's chain")
    return Slot(position, offset, offset + len(line), True, parsed.seq, parsed.prev, parsed.mac, event)


def _backbone(authentic: list[Slot]) -> list[Slot]:
    """Longest strictly increasing run of sequence numbers in file order (patience sorting, O(n log n));
    among equal sequence numbers the earliest copy is kept."""
    tails: list[int] = []  # seq ending the best run of each length
    tail_idx: list[int] = []
    parent = [-1] * len(authentic)
    for i, slot in enumerate(authentic):
        k = bisect.bisect_left(tails, slot.seq)
        if k < len(tails) and tails[k] == slot.seq:
            continue
        parent[i] = tail_idx[k - 1] if k else -1
        if k == len(tails):
            tails.append(slot.seq)
            tail_idx.append(i)
        else:
            tails[k] = slot.seq
            tail_idx[k] = i
    chain, i = [], tail_idx[-1] if tail_idx else -1
    while i >= 0:
        chain.append(authentic[i])
        i = parent[i]
    return chain[::-1]


def _has_header(lines: list[tuple[int, bytes]]) -> bool:
    """The first line is the header line (intact or not) when it starts like one; entry lines start with a
    digit, so the two are never confused."""
    return bool(lines) and lines[0][1].startswith(HEADER_PREFIX)


def _header(lines: list[tuple[int, bytes]], keys: LogKeys, result: Verification) -> bytes | None:
    header = parse_header(lines[0][1]) if _has_header(lines) else None
    key = keys.mac_key_by_id(header.key_id) if header else None
    if _has_header(lines):
        result.header_end = len(lines[0][1])
    if header and key and same(header.mac, header_mac(key, header.log_id)):
        result.header_ok = True
        return header.log_id
    result.problems.append(Problem("unreadable", -1, 0, "the log header is missing, damaged or was written with "
                                   "keys this keyring does not hold"))
    return None


def _check_checkpoint(directory: Path, keys: LogKeys, log_id: bytes | None,
                      result: Verification) -> cp.Checkpoint | None:
    """The newest authentic checkpoint of this log. Both slots must be authentic and consistent; a damaged
    slot is a problem, but the intact one still bounds truncation."""
    slots = cp.read(checkpoint_path(directory))
    if slots is None:
        result.problems.append(Problem("unreadable", -1, -1, "the checkpoint is missing or damaged: truncation "
                                       "of the log cannot be ruled out"))
        return None
    good: list[cp.Checkpoint] = []
    for point in slots:
        key = keys.mac_key_by_id(point.key_id) if point else None
        if point is not None and key is not None and point.authentic(key) and point.log_id == (log_id or
                                                                                               point.log_id):
            good.append(point)
    if not good:
        result.problems.append(Problem("unreadable", -1, -1, "no checkpoint slot authenticates for this log: "
                                       "truncation of the log cannot be ruled out"))
        return None
    newest, older = max(good, key=lambda p: p.count), min(good, key=lambda p: p.count)
    if len(good) != len(slots):
        result.damaged_slot = True
        result.problems.append(Problem("unreadable", -1, -1, "a checkpoint slot is damaged or does not "
                                       "authenticate (a crash while writing it, or an edit)"))
    elif newest.log_id != older.log_id or newest.count - older.count not in (0, 1) or (
            newest.count == older.count and newest != older):
        result.problems.append(Problem("unreadable", -1, -1, "the two checkpoint slots contradict each other"))
    result.checkpoint_count = newest.count
    return newest


def _classify(slots: list[Slot], point: cp.Checkpoint | None, result: Verification) -> None:
    authentic = [s for s in slots if s.authentic]
    backbone = _backbone(authentic)
    result.backbone = backbone
    on_backbone = {id(s) for s in backbone}
    placed = {s.seq for s in backbone}
    present = {s.seq for s in authentic}
    for slot in authentic:
        if id(slot) in on_backbone:
            continue
        if slot.seq in placed:
            result.problems.append(Problem("inserted", slot.position, slot.offset,
                                           f"a second copy of the entry with sequence #{slot.seq}"))
        else:
            placed.add(slot.seq)
            result.problems.append(Problem("reordered", slot.position, slot.offset,
                                           f"the entry with sequence #{slot.seq} is out of order"))
    for a, b in itertools.pairwise(backbone):
        if b.seq == a.seq + 1 and not same(b.prev, a.mac):
            result.problems.append(Problem("modified", b.position, b.offset,
                                           f"sequence #{b.seq} does not chain to #{a.seq} (a forked log)"))
    anchored = point.count if point else 0
    top = max([anchored, *present]) if present else anchored
    bounds = [(0, -1), *((s.seq, s.position) for s in backbone), (top + 1, len(slots))]
    for (seq_a, pos_a), (seq_b, pos_b) in itertools.pairwise(bounds):
        tail = pos_b == len(slots)
        missing = [s for s in range(seq_a + 1, seq_b) if s not in present]
        bad = [s for s in slots[pos_a + 1 : pos_b] if not s.authentic]
        for slot, seq in zip(bad, missing, strict=False):
            kind: ProblemKind = "truncated" if tail and not slot.complete else "modified"
            result.problems.append(Problem(kind, slot.position, slot.offset, f"sequence #{seq}: {slot.why}"))
        for seq in missing[len(bad):]:
            gone: ProblemKind = "truncated" if tail else "deleted"
            where = slots[pos_b].offset if pos_b < len(slots) else (slots[-1].end if slots else result.header_end)
            result.problems.append(Problem(gone, pos_b, where, f"the entry with sequence #{seq} is missing"))
        for slot in bad[len(missing):]:
            if tail and slot is slots[-1] and not slot.complete:
                result.torn_tail = slot.offset  # the writer may cut this off when it reopens the log
                result.problems.append(Problem("inserted", slot.position, slot.offset, "a partial entry after "
                                               "the last checkpoint: an append cut short by a crash, or bytes "
                                               "added by someone else"))
                continue
            result.problems.append(Problem("inserted", slot.position, slot.offset, f"not an entry of this log: "
                                           f"{slot.why}"))
    if point is not None:
        named = next((s for s in backbone if s.seq == point.count), None)
        if point.count and named is not None and not same(named.mac, point.head):
            result.problems.append(Problem("unreadable", -1, -1, f"the checkpoint does not match sequence "
                                           f"#{point.count}"))
        beyond = sum(1 for s in backbone if s.seq > point.count)
        if beyond:
            result.warnings.append(f"{beyond} entr{'y' if beyond == 1 else 'ies'} after the last checkpoint "
                                   "(an append interrupted by a crash?)")


def verify_log(directory: Path, keys: LogKeys, codec: EntryCodec) -> Verification:
    """Verify the log in ``directory``. Never raises for damage: every finding is in the result."""
    result = Verification()
    try:
        data = log_path(directory).read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        result.problems.append(Problem("unreadable", -1, -1, f"no audit log in {directory}"))
        return result
    except PermissionError:
        result.problems.append(Problem("unreadable", -1, -1, f"the audit log in {directory} is not readable"))
        return result
    lines = split_lines(data)
    log_id = _header(lines, keys, result)
    point = _check_checkpoint(directory, keys, log_id, result)
    if log_id is None and point is not None:
        log_id = point.log_id  # the checkpoint authenticated: it still tells which log this is
    if log_id is None:
        return result
    result.log_id = log_id
    body = lines[1:] if _has_header(lines) else lines
    slots = [_read_slot(i, off, line, log_id, keys, codec) for i, (off, line) in enumerate(body)]
    result.lines = len(slots)
    _classify(slots, point, result)
    return result


def entry_spans(directory: Path) -> list[tuple[int, int]]:
    """Byte ranges of the entry lines (everything after the header line), whether they verify or not."""
    lines = split_lines(log_path(directory).read_bytes())
    return [(off, off + len(line)) for off, line in lines[1 if _has_header(lines) else 0 :]]
