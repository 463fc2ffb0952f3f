"""The consent manager: grants, revocations and access decisions, each one audited.

Deny by default: a decision is "allowed" only when a grant for exactly (actor, category, operation) exists,
has not expired by the injected clock, and the actor presents the level its id is pinned to. Nothing is
cached between decisions, so a revocation or an expiry applies to the very next access.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from aico_secure.audit.events import AuditEvent, AuditSink, NullAuditSink, Result
from aico_secure.consent import policy
from aico_secure.consent.categories import DEFAULT_CATEGORIES
from aico_secure.consent.errors import InvalidConsentRequest, PermissionDenied
from aico_secure.consent.state import StateFile
from aico_secure.target.consent import OPERATIONS, PERMISSION_LEVELS, Actor, Grant, Operation, PermissionLevel
from aico_secure.target.keys import KeySession

Clock = Callable[[], float]
MAX_TTL_SECONDS = 365 * 24 * 3600.0
ACTOR_ID = re.compile(r"[\w.:@/\-]{1,128}")  # fullmatch: "$" would let a trailing newline in
CONSENT_ACTOR = "consent"


class ConsentManager:
    def __init__(self, state: StateFile, *, categories: Mapping[str, PermissionLevel], audit: AuditSink,
                 clock: Clock, max_ttl_seconds: float) -> None:
        self._state = state
        self._categories = dict(categories)
        self._audit = audit
        self._clock = clock
        self._max_ttl = max_ttl_seconds

    def __repr__(self) -> str:
        return f"ConsentManager(state={str(self._state.path)!r})"

    @classmethod
    def open(cls, session: KeySession, directory: Path, *, audit: AuditSink | None = None, clock: Clock = time.time,
             categories: Mapping[str, PermissionLevel] = DEFAULT_CATEGORIES,
             max_ttl_seconds: float = MAX_TTL_SECONDS) -> ConsentManager:
        """Open the consent store in ``directory``; ``ConsentStateCorrupt`` if its state does not authenticate."""
        Path(directory).mkdir(mode=0o700, parents=True, exist_ok=True)
        state = StateFile(session, Path(directory))
        state.refresh()
        return cls(state, categories=categories, audit=audit or NullAuditSink(), clock=clock,
                   max_ttl_seconds=max_ttl_seconds)

    # ---- validation ------------------------------------------------------------------------------------------
    def categories(self) -> Mapping[str, PermissionLevel]:
        return dict(self._categories)

    @property
    def max_ttl_seconds(self) -> float:
        """The longest lifetime a grant may be given (``grant`` refuses more)."""
        return self._max_ttl

    def _category_level(self, category: str) -> PermissionLevel:
        level = self._categories.get(category) if isinstance(category, str) else None
        if level is None:
            raise InvalidConsentRequest(f"unknown data category {category!r}")
        return level

    @staticmethod
    def _operation(operation: str) -> Operation:
        if operation not in OPERATIONS:
            raise InvalidConsentRequest(f"unknown operation {operation!r}; expected one of {OPERATIONS}")
        return operation

    @staticmethod
    def _actor(actor: Actor, role: str) -> Actor:
        if not isinstance(actor, Actor) or not isinstance(actor.id, str) or not ACTOR_ID.fullmatch(actor.id):
            raise InvalidConsentRequest(f"{role} must be an Actor with an id of 1-128 word characters")
        if actor.level not in PERMISSION_LEVELS:
            raise InvalidConsentRequest(f"{role} has unknown permission level {actor.level!r}")
        return actor

    def _ttl(self, ttl_seconds: float) -> float:
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, (int, float)) or not math.isfinite(
                ttl_seconds) or ttl_seconds <= 0:
            raise InvalidConsentRequest("a grant's lifetime must be a positive, finite number of seconds")
        if ttl_seconds > self._max_ttl:
            raise InvalidConsentRequest(f"a grant may last at most {self._max_ttl:.0f} seconds")
        return float(ttl_seconds)

    def _record(self, action: str, actor: str, category: str, operation: str, result: Result,
                **details: str | int | float | bool) -> None:
        self._audit.record(AuditEvent(category="consent", action=action, actor=actor, result=result,
                                      subject=f"{category}:{operation}", details=details))

    # ---- changes ---------------------------------------------------------------------------------------------
    def grant(self, by: Actor, subject: Actor, category: str, operation: str, *, ttl_seconds: float) -> Grant:
        by, subject = self._actor(by, "grantor"), self._actor(subject, "subject")
        level, op, ttl = self._category_level(category), self._operation(operation), self._ttl(ttl_seconds)
        try:
            with self._state.changing() as state:
                reason = (policy.level_refusal(by, state.levels) or policy.level_refusal(subject, state.levels)
                          or self._grant_refusal(by, subject, level))
                if reason:
                    raise PermissionDenied(reason)
                now = float(self._clock())
                grant = Grant(subject.id, category, op, by.id, now, now + ttl)
                state.levels.setdefault(by.id, by.level)
                state.levels.setdefault(subject.id, subject.level)
                state.grants[(subject.id, category, op)] = grant
        except PermissionDenied as exc:
            self._record("grant", by.id, category, op, "denied", to=subject.id, reason=str(exc))
            raise
        self._record("grant", by.id, category, op, "success", to=subject.id, expires_at=grant.expires_at,
                     ttl_s=ttl)
        return grant

    def revoke(self, by: Actor, subject: str, category: str, operation: str) -> None:
        by = self._actor(by, "revoker")
        if not isinstance(subject, str) or not ACTOR_ID.fullmatch(subject):
            raise InvalidConsentRequest("subject must be an actor id of 1-128 word characters")
        level, op = self._category_level(category), self._operation(operation)
        try:
            with self._state.changing() as state:
                reason = policy.level_refusal(by, state.levels) or policy.revoke_refusal(by, subject, level)
                if reason:
                    raise PermissionDenied(reason)
                existed = state.grants.pop((subject, category, op), None) is not None
        except PermissionDenied as exc:
            self._record("revoke", by.id, category, op, "denied", to=subject, reason=str(exc))
            raise
        self._record("revoke", by.id, category, op, "success", to=subject, existed=existed)

    def active_grants(self, subject: str) -> list[Grant]:
        now = float(self._clock())
        state = self._state.refresh()
        return sorted((g for g in state.grants.values() if g.subject == subject and self._is_live(g, now)),
                      key=lambda g: (g.category, g.operation))

    # ---- the rules, one method each (so each can be stated, tested and, in negative controls, broken) -----
    def _grant_refusal(self, by: Actor, subject: Actor, level: PermissionLevel) -> str | None:
        return policy.grant_refusal(by, subject, level)

    @staticmethod
    def _is_live(grant: Grant, now: float) -> bool:
        """A grant works strictly before its expiry instant and never after it."""
        return now < grant.expires_at

    # ---- decisions -------------------------------------------------------------------------------------------
    def _decide(self, actor: Actor, category: str, operation: Operation) -> str | None:
        """The reason access is refused, or None when it is allowed."""
        level = self._category_level(category)
        state = self._state.refresh()
        refusal = policy.level_refusal(actor, state.levels)
        if refusal:
            return refusal
        if level == "system" and actor.level != "system":
            return f"{category} is a system category"
        grant = state.grants.get((actor.id, category, operation))
        if grant is None:
            return f"no grant for {actor.id} to {operation} {category}"
        if not self._is_live(grant, float(self._clock())):
            self._expire(grant)
            return f"the grant for {actor.id} to {operation} {category} has expired"
        return None

    def _expire(self, grant: Grant) -> None:
        with self._state.changing() as state:
            current = state.grants.get((grant.subject, grant.category, grant.operation))
            if current is None or current.expires_at != grant.expires_at:
                return
            del state.grants[(grant.subject, grant.category, grant.operation)]
        self._record("expire", CONSENT_ACTOR, grant.category, grant.operation, "success", to=grant.subject,
                     expired_at=grant.expires_at)

    def check(self, actor: Actor, category: str, operation: str) -> bool:
        """The audited access decision."""
        actor, op = self._actor(actor, "actor"), self._operation(operation)
        refusal = self._decide(actor, category, op)
        self._record("check", actor.id, category, op, "denied" if refusal else "success", level=actor.level,
                     **({"reason": refusal} if refusal else {}))
        return refusal is None

    def require(self, actor: Actor, category: str, operation: str) -> None:
        """``check``, raising ``PermissionDenied`` when access is refused."""
        if not self.check(actor, category, operation):
            raise PermissionDenied(f"{actor.id} may not {operation} {category}")
