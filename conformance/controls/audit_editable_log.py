"""An editable audit log: entries are encrypted one by one but neither MACed nor chained, and no checkpoint is
consulted, so verification only notices an entry whose bytes no longer decrypt. Deleting, reordering,
duplicating or cutting off whole entries goes unnoticed."""

from __future__ import annotations

from pathlib import Path

from aico_secure.audit.chain import parse_entry, parse_header
from aico_secure.audit.codec import BodyUnreadable
from aico_secure.audit.layout import log_path
from aico_secure.reference.audit import ReferenceAudit, log_keys
from aico_secure.target import KeySession, Target
from aico_secure.target.audit import AuditProblem, AuditReport

from ._base import reference_with

BREAKS = ("AICO-AUD-003",)


class EditableAudit(ReferenceAudit):
    def verify(self, session: KeySession, directory: Path) -> AuditReport:
        codec = self.codec(log_keys(session))
        try:
            lines = log_path(Path(directory)).read_bytes().split(b"\n")
            lines = [line + b"\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
        except FileNotFoundError:
            return AuditReport(False, 0, (AuditProblem("unreadable", -1, "no log"),))
        header = parse_header(lines[0]) if lines else None
        if header is None:
            return AuditReport(False, 0, (AuditProblem("unreadable", -1, "no header"),))
        problems = []
        for position, line in enumerate(lines[1:]):
            entry = parse_entry(line)
            try:
                if entry is None:
                    raise BodyUnreadable("malformed line")
                codec.decode(entry.body, header.log_id, entry.seq)
            except BodyUnreadable:
                problems.append(AuditProblem("modified", position, "entry does not decrypt"))
        return AuditReport(not problems, len(lines) - 1 - len(problems), tuple(problems))


def build() -> Target:
    return reference_with("an editable audit log (no chain, no MAC)", audit=EditableAudit())
