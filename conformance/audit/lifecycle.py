"""A stateful model of the audit trail, driven through the contract by Hypothesis.

The machine records events as each source reports them (the gateway's and the bus's authentication attempts,
data accesses, consent changes), makes key and crypto operations through ``trail.session`` (including
rotations), and closes and reopens the trail; after every step it checks one requirement's property:

* ``recorded`` (AUD-001): every event given so far is read back, in order, with its source (``actor``),
  subject, action and result; every key and crypto operation made so far is there too, with an actor.
* ``chain`` (AUD-003): the log verifies with one authentic entry per span, and the checkpoint covers the last
  entry: a copy of the log with only that entry cut off does not verify (a checkpoint one entry behind would
  let the newest entry vanish unnoticed).
* ``secrets`` (AUD-002): no key the session has held so far, nor the password, is in any event read back
  (after every step) or in any file of the log directory (each time the trail is closed).
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from aico_secure.audit.events import AuditEvent
from aico_secure.conform.checks import find_leaks, text_contains_secret
from aico_secure.conform.fakes import ManualClock
from aico_secure.conform.passphrases import passphrase
from aico_secure.target import KeySession, RejectedCredentials
from aico_secure.target.audit import AuditCapability, AuditTrail

# (category, action, source/actor, subject, result): events as the build's components report them.
SOURCES = (
    ("auth", "login", "192.0.2.7", "user-1", "failure"),
    ("auth", "login", "192.0.2.8", "user-1", "success"),
    ("auth", "curve_handshake", "bus-peer:5f1c", "", "failure"),
    ("data_access", "read", "plugin.notes", "memories", "success"),
    ("data_access", "write", "user-1", "profile", "denied"),
    ("consent", "grant", "user-1", "memories:read", "success"),
    ("consent", "revoke", "user-1", "memories:read", "success"),
)
PURPOSES = ("libsql", "rocksdb", "chroma")
Expected = tuple[str, str, str, str, str]


@dataclass
class AuditEnv:
    audit: AuditCapability
    session: KeySession
    password: str = field(repr=False)
    root: Path
    clock: ManualClock = field(default_factory=ManualClock)
    wrong_password: str = field(default_factory=lambda: passphrase(), repr=False)
    _runs: itertools.count[int] = field(default_factory=itertools.count)

    def fresh(self) -> Path:
        return self.root / f"run-{next(self._runs)}"


class AuditMachine(RuleBasedStateMachine):
    def __init__(self, env: AuditEnv, prop: str) -> None:
        super().__init__()
        self.env = env
        self.prop = prop
        self.directory = env.fresh()
        self.trail: AuditTrail | None = env.audit.open(env.session, self.directory, clock=env.clock)
        self.expected: list[Expected] = []
        self.key_ops: list[tuple[str, str, str]] = []  # (category, action, purpose)
        self.secrets: dict[str, bytes] = {"password": env.password.encode()}
        self._collect()
        self.probes = itertools.count()

    @property
    def open_trail(self) -> AuditTrail:
        assert self.trail is not None
        return self.trail

    def teardown(self) -> None:
        if self.trail is not None:
            self.trail.close()

    def _collect(self) -> None:
        for name, value in self.env.session.secret_material().items():
            if value not in self.secrets.values():
                self.secrets[f"{name}#{len(self.secrets)}"] = value

    # ---- rules -----------------------------------------------------------------------------------------------
    @rule(source=st.sampled_from(SOURCES), seconds=st.sampled_from((0.0, 1.0, 61.0)))
    def component_reports(self, source: Expected, seconds: float) -> None:
        category, action, actor, subject, result = source
        self.env.clock.advance(seconds)
        self.open_trail.record(AuditEvent(category=category, action=action, actor=actor,  # type: ignore[arg-type]
                                          subject=subject, result=result))  # type: ignore[arg-type]
        self.expected.append(source)

    @rule(purpose=st.sampled_from(PURPOSES))
    def seal_and_open(self, purpose: str) -> None:
        session = self.open_trail.session
        assert session.open(purpose, b"rec", session.seal(purpose, b"rec", b"value")) == b"value"
        self.key_ops += [("crypto", "encrypt", purpose), ("crypto", "decrypt", purpose)]

    @rule(purpose=st.sampled_from(PURPOSES))
    def derive(self, purpose: str) -> None:
        self.secrets[f"derived:{purpose}#{len(self.secrets)}"] = self.open_trail.session.derive(purpose)
        self.key_ops.append(("key", "derive", purpose))

    @rule(purpose=st.sampled_from(PURPOSES), kek=st.booleans())
    def rotate(self, purpose: str, kek: bool) -> None:
        session = self.open_trail.session
        try:
            if kek:
                session.rotate_kek(purpose)
            else:
                session.rotate_data_key(purpose)
        except NotImplementedError:
            return  # an optional operation this build lacks: no event to record, every other step still checked
        self.key_ops.append(("key", "rotate_kek" if kek else "rotate_data_key", purpose))
        self._collect()

    @precondition(lambda self: self.prop == "secrets")  # a KDF run per try: only where it is the point
    @rule(change=st.booleans())
    def wrong_password_refused(self, change: bool) -> None:
        """A refused password operation: the password tried is a secret too, however the refusal is worded."""
        wrong = self.env.wrong_password
        self.secrets["wrong password"] = wrong.encode()
        session = self.open_trail.session
        try:
            with pytest.raises(RejectedCredentials):
                if change:
                    session.change_password(wrong, self.env.password + "-next")
                else:
                    session.rotate_master(wrong)
        except NotImplementedError:
            return  # a build without this operation has no refusal of it to record

    @rule()
    def reopen(self) -> None:
        self.open_trail.close()
        self.trail = None
        if self.prop == "secrets":  # the files are complete once closed: scan them there, not every step
            self._no_secret_on_disk()
        self.trail = self.env.audit.open(self.env.session, self.directory, clock=self.env.clock)

    # ---- the property, after every step ----------------------------------------------------------------------
    @invariant()
    def property_holds(self) -> None:
        if self.prop == "recorded":
            self._all_recorded()
        elif self.prop == "chain":
            self._chain_covers_the_last_entry()
        elif self.prop == "secrets":
            self._no_secret()

    def _all_recorded(self) -> None:
        events = self.open_trail.events()
        unnamed = [e for e in events if not e.actor]
        assert not unnamed, f"events read back without an actor (source): {unnamed[:3]}"
        seen = iter([(e.category, e.action, e.actor, e.subject, e.result) for e in events])
        for number, want in enumerate(self.expected):
            assert any(got == want for got in seen), (
                f"event #{number} {want} is not read back (in order) with its source, subject and result")
        for category, action, purpose in self.key_ops:
            assert any(e.category == category and e.action == action and e.subject == purpose for e in events), (
                f"{category} {action} of {purpose} made through trail.session is not in the log")

    def _chain_covers_the_last_entry(self) -> None:
        audit, session = self.env.audit, self.env.session
        report = audit.verify(session, self.directory)
        spans = audit.entry_spans(self.directory)
        assert report.ok, f"the untouched log does not verify: {report.problems[:3]}"
        assert report.entries == len(spans), f"{report.entries} entries verified, {len(spans)} on disk"
        if not spans:
            return
        copy = self.directory.with_name(f"{self.directory.name}-cut{next(self.probes)}")
        shutil.copytree(self.directory, copy)
        try:
            path, start, end = spans[-1]
            cut = copy / path.relative_to(self.directory)
            data = cut.read_bytes()
            cut.write_bytes(data[:start] + data[end:])
            after = audit.verify(session, copy)
            assert not after.ok, (
                f"the newest of {len(spans)} entries was cut off and the log still verifies: the checkpoint "
                "does not cover the last entry")
        finally:
            shutil.rmtree(copy, ignore_errors=True)

    def _no_secret(self) -> None:
        events = self.open_trail.events()
        leaked = text_contains_secret("\n".join(repr(e) for e in events), self.secrets)
        assert not leaked, f"events read back carry secrets: {sorted(leaked)[:5]}"

    def _no_secret_on_disk(self) -> None:
        found = find_leaks(self.directory, canaries=[self.env.password], secrets=self.secrets)
        assert found.files_read > 0, "the log directory is empty: nothing was checked"
        assert not found.findings, f"secrets in the log directory: {found.findings[:3]}"
