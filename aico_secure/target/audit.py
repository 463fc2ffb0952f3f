"""The capability contract for the audit log and anomaly alerts.

What the suite checks through it:

* **AICO-AUD-001** every security event is recorded: data access (through the consent service opened with
  ``audit=trail``), key and crypto operations made through ``trail.session``, authentication attempts,
  consent changes and alerts. Events are read back with ``events()`` after the trail was closed and reopened.
* **AICO-AUD-002** no password, key or token in any file of the log directory nor in any event read back.
* **AICO-AUD-003** tamper evidence: the suite edits the log on disk whole entries at a time (via
  ``entry_spans``) and checks ``verify`` finds and locates every change. It also restores the whole log
  directory to an older copy of itself: ``verify`` must not report that intact and ``open`` must refuse it,
  so a build needs a rollback anchor outside that directory (the reference build: a counter in the keyring).
  After every append the newest entry is covered: cutting only the last entry off a copy of the log must
  not verify (a checkpoint that lags one entry behind lets the newest entry vanish).
* **AICO-AUD-004** sealed at rest: text recorded in events is not readable in the log directory.
* **AICO-ANO-001..003** alerts for repeated authentication failures and unusual access (volume, category,
  time of day), driven by scripted event sequences on an injected clock; each alert is itself in the log. A
  pattern that returns after a quiet period raises a new alert (not one alert per source for ever), and one
  that goes on is reported about once per window per source, not once per event; access volume counts an
  actor's accesses to every category together.

Event vocabulary the suite relies on (``aico_secure.audit.events.AuditEvent``): key operations made through
``trail.session`` are category ``key`` (``rotate_data_key``, ``rotate_kek``, ``rotate_master``,
``change_password``, ``derive``) or ``crypto`` (``encrypt`` for ``seal``, ``decrypt`` for ``open``) with the
key purpose as ``subject``; authentication attempts are category ``auth`` with ``result`` ``failure`` or
``success`` and the source (client address, peer key id) as ``actor``; data accesses are category
``data_access`` with the data category as ``subject``; alerts are category ``alert`` with ``action`` one of
``auth_failures``, ``access_volume``, ``unusual_category``, ``unusual_time`` and the offending actor (the
source of the failures or the accessing actor) as ``subject``.

Problem positions: ``position`` is the 0-based index, in ``entry_spans(directory)`` order as the log is found
at verification time, of the entry concerned. A missing entry (``deleted``, ``truncated``) is reported at the
index where it belongs (the index of the next surviving entry, or the number of entries for the tail). Problems
of the log as a whole (missing or forged checkpoint or header, wrong keys) have position ``-1``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from aico_secure.audit.events import AuditEvent
from aico_secure.target.keys import KeySession

ProblemKind = Literal["modified", "deleted", "reordered", "inserted", "truncated", "unreadable"]
PROBLEM_KINDS: tuple[ProblemKind, ...] = ("modified", "deleted", "reordered", "inserted", "truncated", "unreadable")
Clock = Callable[[], float]  # seconds since the Unix epoch, like time.time
ALERT_ACTIONS = ("auth_failures", "access_volume", "unusual_category", "unusual_time")


@dataclass(frozen=True)
class AnomalyThresholds:
    """When the anomaly detector raises an alert. Every field is configurable; defaults suit one user.

    * ``auth_failures`` authentication failures from one source (``actor``) or against one identity
      (``subject``) within ``auth_window_s`` seconds;
    * ``access_volume`` data accesses by one actor within ``volume_window_s`` seconds;
    * an actor touching a data category it never touched during its first ``category_baseline`` accesses;
    * any data access during the quiet hours ``[quiet_start_hour, quiet_end_hour)`` of the local day, where
      local time is UTC shifted by ``utc_offset_minutes`` (the window may wrap midnight, e.g. 23 to 6; equal
      start and end hours mean no quiet hours).

    A value that cannot work is refused, never reinterpreted: ``AuditCapability.open`` raises ``ValueError`` for
    a count below 1, a window that is not a positive finite number of seconds, an hour outside 0-23 or an
    offset beyond 14 hours either way (a threshold of 0 quietly read as "off" is a detector switched off).
    """

    auth_failures: int = 5
    auth_window_s: float = 300.0
    access_volume: int = 500
    volume_window_s: float = 60.0
    category_baseline: int = 50
    quiet_start_hour: int = 1
    quiet_end_hour: int = 5
    utc_offset_minutes: int = 0


@dataclass(frozen=True)
class AuditProblem:
    kind: ProblemKind
    position: int
    detail: str = ""


@dataclass(frozen=True)
class AuditReport:
    """The verdict of ``verify``. ``ok`` is true only if the log was read, authenticated and complete."""

    ok: bool
    entries: int  # entries that authenticated
    problems: tuple[AuditProblem, ...] = ()


@runtime_checkable
class AuditTrail(Protocol):
    """An open audit log with its anomaly detector. It is also the ``AuditSink`` (``record``) the build's other
    capabilities (consent, gateway, bus) are given as ``audit=``."""

    @property
    def session(self) -> KeySession:
        """The key session as the build uses it once auditing is attached: key and crypto operations made
        through it are recorded in this trail (it wraps the session ``open`` was given)."""

    def record(self, event: AuditEvent) -> None:
        """Append ``event`` (timestamped by the trail's clock when ``timestamp`` is None) and feed it to the
        anomaly detector; alerts it raises are appended too, before ``record`` returns."""

    def events(self) -> list[AuditEvent]:
        """Every event in the log, oldest first, as read back and authenticated from disk (alerts included)."""

    def alerts(self) -> list[AuditEvent]:
        """The ``alert`` events in the log, oldest first."""

    def close(self) -> None:
        """Flush and release the log; calling it again does nothing."""


@runtime_checkable
class AuditCapability(Protocol):
    def open(self, session: KeySession, directory: Path, *, clock: Clock | None = None,
             thresholds: AnomalyThresholds | None = None) -> AuditTrail:
        """Open (creating if needed) the audit log in ``directory``. Raise ``IntegrityViolation`` if an
        existing log there fails verification: a build must not append to a tampered log."""

    def verify(self, session: KeySession, directory: Path) -> AuditReport:
        """Check the whole log on disk. Never raises for tampering: reports it. A directory without a log, or
        keys that do not open it, give ``ok=False`` with an ``unreadable`` problem."""

    def entry_spans(self, directory: Path) -> list[tuple[Path, int, int]]:
        """Where each entry lies on disk, oldest first: ``(file, start, end)`` byte ranges, end exclusive, so
        the suite can delete, reorder, duplicate and edit whole entries without knowing the format. Spans
        must cover whole entries (removing ``[start, end)`` removes exactly one entry) and the spans of one
        file must be contiguous (each starts where the previous one ends)."""
