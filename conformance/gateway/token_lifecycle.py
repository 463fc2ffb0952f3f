"""A stateful model of the gateway's token lifecycle, driven over HTTPS by Hypothesis.

The machine logs in (up to three sessions of one user), uses access tokens, refreshes, replays spent refresh
tokens, presents each token type where the other is wanted, logs out, and moves the injected clock (one tick,
onto an expiry instant, one tick before it, whole lifetimes). It checks one property per run:

* ``lifetimes``: an access token works exactly until ``issued + access_ttl`` and a refresh token exactly until
  ``issued + refresh_ttl`` (each refused from the instant itself), and nothing of a logged-out session works;
* ``binding``: a refresh token never works as an access token nor an access token as a refresh token, and a
  spent refresh token never works again.

Replaying a spent refresh token may revoke the whole session (theft detection, which the contract allows but
does not require), so after a replay the machine stops expecting that session's tokens to work, and only
checks that they are refused where they must be.
"""

from __future__ import annotations

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
        assert response.status_code == 200, f"login with the right password failed: {response.status_code}"
        access, refresh = self._pair(steps.body_of(response))
        self.sessions.append(TokenSession(access, refresh, self.now + self.access_ttl, self.now + self.refresh_ttl))

    @precondition(lambda self: bool(self.sessions))
    @rule(data=st.data())
    def use_access(self, data: st.DataObject) -> None:
        session = data.draw(st.sampled_from(self.sessions), label="session")
        status = steps.me(self.env.client, session.access)
        live = self.now < session.access_expiry and not session.logged_out
        if self.prop == "lifetimes":
            if not live:
                assert status == 401, (f"access token accepted {self.now - session.access_expiry:+.0f} s from its "
                                       f"expiry instant{' after logout' if session.logged_out else ''}")
            elif session.certain:
                assert status == 200, (f"access token refused {self.now - session.access_expiry:+.0f} s from its "
                                       "expiry instant")

    @precondition(lambda self: bool(self.sessions))
    @rule(data=st.data())
    def refresh(self, data: st.DataObject) -> None:
        session = data.draw(st.sampled_from(self.sessions), label="session")
        response = steps.refresh(self.env.client, session.refresh)
        live = self.now < session.refresh_expiry and not session.logged_out
        if self.prop == "lifetimes":
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
        spent = session.spent[data.draw(st.integers(0, len(session.spent) - 1), label="spent token #")]
        response = steps.refresh(self.env.client, spent)
        session.replayed = True
        if self.prop == "binding":
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
        elif self.prop == "lifetimes" and self.now < session.access_expiry and session.certain \
                and not session.logged_out:
            raise AssertionError(f"logout with a live access token failed: {response.status_code}")

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

    # ---- after every step ------------------------------------------------------------------------------------
    @invariant()
    def refresh_never_works_as_access(self) -> None:
        if self.prop != "binding":
            return
        for session in self.sessions:
            for token in (session.refresh, *session.spent[-1:]):
                assert steps.me(self.env.client, token) == 401, "a refresh token was accepted as an access token"
