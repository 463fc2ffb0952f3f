"""The lockout state machine (thresholds, doubling, cap, forgetting, memory bound), address grouping, and the
strict JSON parser and error messages."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aico_secure.conform.hypothesis_profiles import CHEAP, budget
from aico_secure.gateway import ratelimit, schemas
from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.errors import GatewayError
from aico_secure.gateway.ratelimit import AuthGuard, Lockout, LockoutRule, address_key
from aico_secure.gateway.validation import RequestRejected, parse_json, validate

from .conftest import Clock


def test_lock_doubles_and_caps() -> None:
    clock = Clock()
    lockout = Lockout(LockoutRule(threshold=3, base_seconds=10, max_seconds=35, forget_after=3600), clock)
    assert [lockout.failure("k") for _ in range(3)] == [0, 0, 10]
    assert lockout.retry_after("k") == 10
    durations = []
    for _ in range(3):
        clock.advance(lockout.retry_after("k"))
        assert lockout.retry_after("k") == 0
        durations.append(lockout.failure("k"))
    assert durations == [20, 35, 35]


@settings(max_examples=budget(CHEAP), deadline=None)
@given(steps=st.lists(st.one_of(st.just("fail"), st.floats(0, 5000)), max_size=40))
def test_never_more_than_threshold_failures_per_open_window(steps: list[object]) -> None:
    """Whatever the sequence, failures counted while unlocked between locks never exceed the threshold."""
    clock = Clock()
    rule = LockoutRule(threshold=4, base_seconds=30, max_seconds=600, forget_after=1000)
    lockout = Lockout(rule, clock)
    since_lock = 0
    for step in steps:
        if step == "fail":
            if lockout.retry_after("k") > 0:
                continue  # refused before counting: callers check first
            since_lock += 1
            if lockout.failure("k"):
                assert since_lock <= rule.threshold
                since_lock = 0
        else:
            assert isinstance(step, float)
            clock.advance(step)
            lockout.retry_after("k")  # drops the record once forgotten
            if lockout._records.get("k") is None:
                since_lock = 0


def test_success_clears_identity_but_not_address() -> None:
    clock = Clock()
    guard = AuthGuard(GatewayConfig(identity_failure_threshold=2, address_failure_threshold=3), clock)
    guard.failed("alice", "10.0.0.1")
    guard.succeeded("alice")
    guard.failed("alice", "10.0.0.1")
    assert guard.retry_after("alice", "10.0.0.1") == 0
    assert guard.failed("bob", "10.0.0.1") == {"address": 30.0}


def test_address_grouping() -> None:
    assert address_key("127.0.0.1") == "ip:127.0.0.1"
    assert address_key("::ffff:10.1.2.3") == "ip:10.1.2.3"
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1") == "net:2001:db8::/64"
    assert address_key("2001:db8:0:1::1") != address_key("2001:db8::1")


def test_memory_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "MAX_TRACKED_KEYS", 50)
    clock = Clock()
    lockout = Lockout(LockoutRule(threshold=2, base_seconds=10, max_seconds=10, forget_after=3600), clock)
    lockout.failure("locked")
    lockout.failure("locked")
    for i in range(200):
        lockout.failure(f"spray-{i}")
    assert len(lockout._records) <= 51
    assert lockout.retry_after("locked") > 0, "a locked key must never be evicted"


def test_config_refuses_wildcard_cors() -> None:
    with pytest.raises(GatewayError):
        GatewayConfig(cors_origins=("*",))


@pytest.mark.parametrize("body", [
    b'{"a": 1, "a": 2}', b'{"a": NaN}', b'{"a": Infinity}', b"\xef\xbb\xbf{}", b'{"a": "\\ud800"}', b"[" * 100_000,
    b"\xff", b"", b"{",
])
def test_parser_refuses_ambiguous_or_broken_json(body: bytes) -> None:
    with pytest.raises(RequestRejected) as refused:
        parse_json(body)
    assert refused.value.status == 400


@settings(max_examples=budget(CHEAP), deadline=None)
@given(value=st.one_of(st.integers(), st.text(min_size=8), st.lists(st.text(min_size=8), min_size=1)))
def test_messages_never_echo_values(value: object) -> None:
    for field, validator in (("username", schemas.CHALLENGE), ("refresh_token", schemas.REFRESH)):
        document = {field: value, "unexpected": value}
        with pytest.raises(RequestRejected) as refused:
            validate(validator, document)
        message = refused.value.detail
        for shown in (json.dumps(value), str(value)):
            if len(shown) >= 8:
                assert shown not in message
