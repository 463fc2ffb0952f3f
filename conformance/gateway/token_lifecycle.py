"""A stateful model of the gateway's token lifecycle, driven over HTTPS by Hypothesis.

The machine logs in (up to three sessions of one user), uses access tokens, refreshes, replays spent refresh
tokens, presents each token type where the other is wanted, logs out, and moves the injected clock (one tick,
onto an expiry instant, one tick before it, whole lifetimes). It checks one property per run:

* ``lifetimes``: an access token works exactly until ``issued + access_ttl`` and a refresh token exactly until
  ``issued + refresh_ttl`` (each refused from the instant itself), and nothing of a logged-out session works;
* ``binding``: a refresh token never works as an access token nor an access token as a refresh token, and a
  spent refresh token never works again;
* ``restart``: the gateway is also stopped and started again on the same directory and key session, and every
  token keeps its standing across it: what worked still works (until it expires), what was revoked, logged out
  or spent stays refused. After each restart every session's tokens are checked at once;
* ``audience``: tokens issued by this gateway are refused by another one sharing the key session (another
  directory), and that gateway's tokens are refused here.

Replaying a spent refresh token may revoke the whole session (theft detection, which the contract allows but
does not require), so after a replay the machine stops expecting that session's tokens to work, and only
checks that they are refused where they must be.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from aico_secure.conform.fakes import ManualClock
from aico_secure.target.gateway import RunningGateway

from . import steps
from .gwclient import SuiteClient

TICK = 1.0
MAX_SESSIONS = 3


@dataclass
class TokenSession:
    """One login's tokens as the model knows them; the tokens stay out of the repr, which Hypothesis prints
    in every failure report."""

    access: str = field(repr=False)
    refresh: str = field(repr=False)
    access_expiry: float
    refresh_expiry: float
    spent: list[str] = field(default_factory=list, repr=False)
    logged_out: bool = False
    replayed: bool = False  # a spent refresh token was shown again: the build may have revoked the session

    @property
    def certain(self) -> bool:
        """Whether the model knows if this session's unexpired tokens must work."""
        return not self.replayed


@dataclass
class TokenEnv:
    gateway: RunningGateway
    client: SuiteClient
    clock: ManualClock
    password: str = field(repr=False)
    users: list[str] = field(default_factory=list)
    # ``restart()``: stop the gateway, start it again on the same directory, return it and a client for it.
    restart: Callable[[], tuple[RunningGateway, SuiteClient]] | None = None
    foreign: SuiteClient | None = None  # a client of another gateway with the same key session
    restarts: int = 0  # how many restarts the machine made, over all sequences
    crossings: int = 0  # how many tokens were presented to a gateway that did not issue them


LIFETIME_CHECKS = ("lifetimes", "restart")  # the properties that hold each token to its exact lifetime
SINGLE_USE_CHECKS = ("binding", "restart")  # ... and a spent refresh token to never working again


class TokenMachine(RuleBasedStateMachine):
    def __init__(self, env: TokenEnv, prop: str, user: str) -> None:
        super().__init__()
        self.env, self.prop, self.user = env, prop, user
        self.env.clock.now = float(int(self.env.clock.now))
        policy = env.gateway.policy
        self.access_ttl, self.refresh_ttl = float(policy.access_ttl_seconds), float(policy.refresh_ttl_seconds)
        self.sessions: list[TokenSession] = []

    @property
    def now(self) -> float:
        return self.env.clock()

    def _pair(self, body: dict[str, object]) -> tuple[str, str]:
        access, refresh = body.get("access_token"), body.get("refresh_token")
        assert isinstance(access, str) and isinstance(refresh, str), "no token pair in the response"
        return access, refresh

    # ---- rules -----------------------------------------------------------------------------------------------
    @precondition(lambda self: len(self.sessions) < MAX_SESSIONS)
    @rule()
    def login(self) -> None:
        response = steps.attempt(self.env.client, self.user, self.env.password)
        assert response.status == 200, f"login with the right password failed: {response.status}"
        access, refresh = self._pair(response.body)
        self.sessions.append(TokenSession(access, refresh, self.now + self.access_ttl, self.now + self.refresh_ttl))

    @precondition(lambda self: bool(self.sessions))
    @rule(data=st.data())
    def use_access(self, data: st.DataObject) -> None:
        self._use_access(data.draw(st.sampled_from(self.sessions), label="session"))

    def _use_access(self, session: TokenSession) -> None:
        status = steps.me(self.env.client, session.access)
        live = self.now < session.access_expiry and not session.logged_out
        if self.prop in LIFETIME_CHECKS:
            if not live:
                assert status == 401, (f"access token accepted {self.now - session.access_expiry:+.0f} s from its "
                                       f"expiry instant{' after logout' if session.logged_out else ''}")
            elif session.certain:
                assert status == 200, (f"access token refused {self.now - session.access_expiry:+.0f} s from its "
                                       "expiry instant")

    @precondition(lambda self: bool(self.sessions))
    @rule(data=st.data())
    def refresh(self, data: st.DataObject) -> None:
        self._refresh(data.draw(st.sampled_from(self.sessions), label="session"))

    def _refresh(self, session: TokenSession) -> None:
        response = steps.refresh(self.env.client, session.refresh)
        live = self.now < session.refresh_expiry and not session.logged_out
        if self.prop in LIFETIME_CHECKS:
            if not live:
                assert response.status_code == 401, (
                    f"refresh token accepted {self.now - session.refresh_expiry:+.0f} s from its expiry instant"
                    f"{' after logout' if session.logged_out else ''}")
            elif session.certain:
                assert response.status_code == 200, (
                    f"refresh token refused {self.now - session.refresh_expiry:+.0f} s from its expiry instant")
        if response.status_code == 200:
            session.spent.append(session.refresh)
            session.access, session.refresh = self._pair(steps.body_of(response))
            session.access_expiry, session.refresh_expiry = self.now + self.access_ttl, self.now + self.refresh_ttl

    @precondition(lambda self: any(s.spent for s in self.sessions))
    @rule(data=st.data())
    def replay_spent_refresh(self, data: st.DataObject) -> None:
        session = data.draw(st.sampled_from([s for s in self.sessions if s.spent]), label="session")
        self._replay(session, session.spent[data.draw(st.integers(0, len(session.spent) - 1), label="spent token #")])

    def _replay(self, session: TokenSession, spent: str) -> None:
        response = steps.refresh(self.env.client, spent)
        session.replayed = True
        if self.prop in SINGLE_USE_CHECKS:
            assert response.status_code == 401, "a spent refresh token worked again"

    @precondition(lambda self: bool(self.sessions))
    @rule(data=st.data())
    def access_as_refresh(self, data: st.DataObject) -> None:
        session = data.draw(st.sampled_from(self.sessions), label="session")
        response = steps.refresh(self.env.client, session.access)
        if self.prop == "binding":
            assert response.status_code == 401, "an access token was accepted as a refresh token"

    @precondition(lambda self: bool(self.sessions))
    @rule(data=st.data())
    def logout(self, data: st.DataObject) -> None:
        session = data.draw(st.sampled_from(self.sessions), label="session")
        response = steps.patient(lambda: self.env.client.request("POST", "/v1/auth/logout", token=session.access))
        if response.status_code in (200, 204):
            session.logged_out = True
        elif self.prop in LIFETIME_CHECKS and self.now < session.access_expiry and session.certain \
                and not session.logged_out:
            raise AssertionError(f"logout with a live access token failed: {response.status_code}")

    @precondition(lambda self: self.prop == "restart" and self.env.restart is not None)
    @rule()
    def restart(self) -> None:
        """Stop and start again on the same directory, then hold every session's tokens to their standing: the
        access token, the last spent refresh token (which may revoke the session), then the refresh token. Each
        live session spends its refresh token first, so every restart has a just-spent token to keep refused."""
        assert self.env.restart is not None
        for session in self.sessions:
            if session.certain and not session.logged_out and self.now < session.refresh_expiry:
                self._refresh(session)
        self.env.gateway, self.env.client = self.env.restart()
        self.env.restarts += 1
        for session in self.sessions:
            self._use_access(session)
            if session.spent:
                self._replay(session, session.spent[-1])
            self._refresh(session)

    @precondition(lambda self: self.prop == "audience" and self.env.foreign is not None and bool(self.sessions))
    @rule(data=st.data(), kind=st.sampled_from(("access", "refresh")))
    def present_to_another_gateway(self, data: st.DataObject, kind: str) -> None:
        self._present_elsewhere(data.draw(st.sampled_from(self.sessions), label="session"), kind)

    def _present_elsewhere(self, session: TokenSession, kind: str) -> None:
        assert self.env.foreign is not None
        self.env.crossings += 1
        if kind == "access":
            assert steps.me(self.env.foreign, session.access) == 401, "another gateway accepted this one's access token"
        else:
            status = steps.refresh(self.env.foreign, session.refresh).status_code
            assert status == 401, "another gateway accepted this one's refresh token"

    @precondition(lambda self: self.prop == "audience" and self.env.foreign is not None)
    @rule(kind=st.sampled_from(("access", "refresh")))
    def present_another_gateways_token(self, kind: str) -> None:
        assert self.env.foreign is not None
        response = steps.attempt(self.env.foreign, self.user, self.env.password)
        assert response.status == 200, f"login at the other gateway failed: {response.status}"
        access, refresh = self._pair(response.body)
        self.env.crossings += 1
        if kind == "access":
            assert steps.me(self.env.client, access) == 401, "this gateway accepted another one's access token"
        else:
            status = steps.refresh(self.env.client, refresh).status_code
            assert status == 401, "this gateway accepted another one's refresh token"

    @rule()
    def one_tick(self) -> None:
        self.env.clock.advance(TICK)

    @rule(seconds=st.sampled_from(("access", "refresh", "half refresh")))
    def time_passes(self, seconds: str) -> None:
        self.env.clock.advance({"access": self.access_ttl, "refresh": self.refresh_ttl,
                                "half refresh": self.refresh_ttl / 2}[seconds])

    @precondition(lambda self: any(max(s.access_expiry, s.refresh_expiry) > self.now + TICK for s in self.sessions))
    @rule(data=st.data(), offset=st.sampled_from((-TICK, 0.0)))
    def to_an_expiry_instant(self, data: st.DataObject, offset: float) -> None:
        ahead = sorted({t + offset for s in self.sessions for t in (s.access_expiry, s.refresh_expiry)
                        if t + offset > self.now})
        if ahead:
            self.env.clock.now = data.draw(st.sampled_from(ahead), label="instant")

    # ---- at the end of every sequence -------------------------------------------------------------------------
    def teardown(self) -> None:
        """Every sequence ends with the event its property is about, so the short sequences of the quick profile
        check it too: a restart for ``restart``, each token shown to the other gateway for ``audience``."""
        if self.prop == "restart" and self.env.restart is not None:
            if not self.sessions:
                self.login()
            self.restart()
        elif self.prop == "audience" and self.env.foreign is not None:
            if not self.sessions:
                self.login()
            for kind in ("access", "refresh"):
                self._present_elsewhere(self.sessions[-1], kind)
                self.present_another_gateways_token(kind)

    # ---- after every step ------------------------------------------------------------------------------------
    @invariant()
    def refresh_never_works_as_access(self) -> None:
        if self.prop != "binding":
            return
        for session in self.sessions:
            for token in (session.refresh, *session.spent[-1:]):
                assert steps.me(self.env.client, token) == 401, "a refresh token was accepted as an access token"
