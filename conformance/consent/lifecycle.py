"""A stateful model of consent, driven through the contract by Hypothesis.

Why a state machine: a defect that shows only after a particular sequence (a grant replaced, then revoked,
then the service reopened, then the clock moved onto the exact expiry instant) is missed by any hand-picked
scenario. The machine grants, revokes, lets plugins try to grant, moves the injected clock (one tick, onto an
expiry instant, one tick before it, across hours, midnight and a daylight-saving change) and reopens the
service; after every step it checks one requirement's property against a model of what the rules allow.

One property per run (``prop``), so a build with several defects fails several tests, each naming its
requirement, instead of one test that stops at the first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from aico_secure.conform.fakes import CollectingSink, ManualClock
from aico_secure.target import AccessDenied, KeySession
from aico_secure.target.consent import Actor, ConsentCapability, ConsentService, Operation

USER = Actor("user-1", "user_data")
PLUGIN = Actor("plugin.weather", "plugin")
SYSTEM = Actor("core.memory", "system")
SUBJECTS = (USER, PLUGIN, SYSTEM)
OPS: tuple[Operation, ...] = ("read", "write", "delete")
TICK = 1.0  # the smallest step the machine takes; expiry is checked one tick either side of the instant
# Lifetimes that, from the machine's start (local 23:00 the evening before a daylight-saving change), reach
# past midnight, into the repeated or skipped hour, and well beyond.
TTLS = (1.0, 59.0, 60.0, 1800.0, 3600.0, 5400.0, 7200.0, 86_400.0)
Key = tuple[str, str, str]  # (subject id, category, operation)


@dataclass
class ConsentEnv:
    """What one run of the machine needs from the test: the build's capability, keys, a fresh directory per
    example, the clock (starting at ``start``) and the sink the service reports to."""

    consent: ConsentCapability
    session: KeySession
    root: Path
    start: float
    user_categories: tuple[str, str]
    system_category: str
    clock: ManualClock = field(default_factory=ManualClock)
    sink: CollectingSink = field(default_factory=CollectingSink)
    _runs: itertools.count[int] = field(default_factory=itertools.count)

    def fresh(self) -> Path:
        self.clock.now = self.start
        self.sink.events.clear()
        return self.root / f"run-{next(self._runs)}"


class ConsentMachine(RuleBasedStateMachine):
    """Random operations on one consent store; ``prop`` names the property checked after every step."""

    def __init__(self, env: ConsentEnv, prop: str) -> None:
        super().__init__()
        self.env = env
        self.prop = prop
        self.directory = env.fresh()
        self.services: list[ConsentService] = []
        self.service = self._open()
        self.live: dict[Key, float] = {}  # granted and not revoked: expiry instant as the build reported it
        self.revoked: set[Key] = set()

    def _open(self) -> ConsentService:
        service = self.env.consent.open(self.env.session, self.directory, audit=self.env.sink, clock=self.env.clock)
        self.services.append(service)
        return service

    def teardown(self) -> None:
        for service in self.services:
            service.close()

    @property
    def now(self) -> float:
        return self.env.clock()

    def _categories(self) -> tuple[str, ...]:
        return (*self.env.user_categories, self.env.system_category)

    # ---- rules -----------------------------------------------------------------------------------------------
    @rule(subject=st.sampled_from(SUBJECTS), which=st.integers(0, 1), op=st.sampled_from(OPS),
          ttl=st.sampled_from(TTLS))
    def user_grants(self, subject: Actor, which: int, op: Operation, ttl: float) -> None:
        category = self.env.user_categories[which]
        before = self.now
        grant = self.service.grant(USER, subject, category, op, ttl_seconds=ttl)
        assert before < grant.expires_at <= before + ttl, (
            f"a grant for {ttl:g} s made at {before} reports expiry {grant.expires_at}")
        key = (subject.id, category, op)
        self.live[key] = grant.expires_at
        self.revoked.discard(key)

    @rule(op=st.sampled_from(OPS), ttl=st.sampled_from(TTLS))
    def system_grants_system(self, op: Operation, ttl: float) -> None:
        grant = self.service.grant(SYSTEM, SYSTEM, self.env.system_category, op, ttl_seconds=ttl)
        key = (SYSTEM.id, self.env.system_category, op)
        self.live[key] = grant.expires_at
        self.revoked.discard(key)

    @rule(category=st.integers(0, 2), op=st.sampled_from(OPS), to_self=st.booleans())
    def plugin_tries_to_grant(self, category: int, op: Operation, to_self: bool) -> None:
        name = self._categories()[category]
        try:
            self.service.grant(PLUGIN, PLUGIN if to_self else USER, name, op, ttl_seconds=600)
        except AccessDenied:
            return
        if self.prop == "plugin":
            raise AssertionError(f"a plugin granted {'itself' if to_self else 'the user'} {op} on {name}")

    @rule(subject=st.sampled_from(SUBJECTS), which=st.integers(0, 1), op=st.sampled_from(OPS))
    def user_revokes(self, subject: Actor, which: int, op: Operation) -> None:
        category = self.env.user_categories[which]
        self.service.revoke(USER, subject.id, category, op)
        key = (subject.id, category, op)
        if self.live.pop(key, None) is not None:
            self.revoked.add(key)

    @rule()
    def one_tick(self) -> None:
        self.env.clock.advance(TICK)

    @rule(seconds=st.sampled_from((30.0, 1799.0, 3600.0, 7200.0, 43_200.0)))
    def time_passes(self, seconds: float) -> None:
        self.env.clock.advance(seconds)

    @precondition(lambda self: any(exp > self.now for exp in self.live.values()))
    @rule(data=st.data(), offset=st.sampled_from((-TICK, 0.0)))
    def to_an_expiry_instant(self, data: st.DataObject, offset: float) -> None:
        """Land exactly on a live grant's expiry instant, or one tick before it."""
        ahead = sorted({exp for exp in self.live.values() if exp + offset > self.now})
        if ahead:
            self.env.clock.now = data.draw(st.sampled_from(ahead), label="expiry") + offset

    @rule()
    def reopen(self) -> None:
        self.service.close()
        self.service = self._open()

    # ---- the property, after every step ----------------------------------------------------------------------
    def _decisions(self) -> dict[tuple[Actor, str, Operation], bool]:
        found = {}
        for actor, category, op in itertools.product(SUBJECTS, self._categories(), OPS):
            mark = len(self.env.sink.events)
            allowed = self.service.is_allowed(actor, category, op)
            found[(actor, category, op)] = allowed
            if self.prop == "audited":
                self._assert_audited(mark, actor, f"{category}:{op}", allowed)
        return found

    def _assert_audited(self, mark: int, actor: Actor, subject: str, allowed: bool) -> None:
        want = "success" if allowed else "denied"
        checks = [e for e in self.env.sink.events[mark:] if e.category == "consent" and e.action == "check"]
        assert any(e.actor == actor.id and e.subject == subject and e.result == want for e in checks), (
            f"the decision {actor.id} {subject} -> {want} was not audited as a consent check by {actor.id}: "
            f"{self.env.sink.events[mark:]}")

    @invariant()
    def property_holds(self) -> None:
        now = self.now
        for (actor, category, op), allowed in self._decisions().items():
            key = (actor.id, category, op)
            expiry = self.live.get(key)
            where = f"{actor.id} {op} {category} at t={now:.0f}"
            if self.prop == "default" and expiry is None and key not in self.revoked:
                assert not allowed, f"never granted, yet allowed: {where}"
            elif self.prop == "expiry" and expiry is not None:
                assert allowed == (now < expiry), (
                    f"grant expiring at t={expiry:.0f} {'allowed' if allowed else 'refused'}: {where} "
                    f"({now - expiry:+.0f} s from its expiry instant)")
            elif self.prop == "revocation" and key in self.revoked:
                assert not allowed, f"revoked, yet allowed: {where}"
            elif self.prop == "plugin" and actor.level == "plugin" and category == self.env.system_category:
                assert not allowed, f"a plugin holds a system category: {where}"
        if self.prop == "audited":
            self._data_path_audited()

    def _data_path_audited(self) -> None:
        """A real access (not only ``is_allowed``) is checked and the check audited, allowed or refused."""
        category = self.env.user_categories[0]
        mark = len(self.env.sink.events)
        try:
            self.service.read(PLUGIN, category, "lifecycle-record")
        except AccessDenied:
            allowed = False
        else:
            allowed = True
        self._assert_audited(mark, PLUGIN, f"{category}:read", allowed)


MachineFactory = Callable[[], ConsentMachine]
