"""Topic grants: a granted subscription can never match a topic outside the grant (BUS-004's foundation)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aico_secure.transport.bus.topics import MalformedTopic, may_publish, may_subscribe, parse_topic, validate_grants
from aico_secure.transport.errors import BusConfigError

segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)
topics = st.lists(segment, min_size=1, max_size=5).map(".".join)
grants = st.lists(segment, min_size=1, max_size=3).map(lambda s: ".".join(s) + ".")


@given(grant=grants, prefix=st.binary(max_size=40), topic=topics)
def test_granted_subscription_matches_only_granted_topics(grant: str, prefix: bytes, topic: str) -> None:
    """If the broker admits subscription ``prefix``, every topic that ZeroMQ would deliver for it is granted."""
    if may_subscribe([grant], prefix) and topic.encode().startswith(prefix):
        assert may_publish([grant], topic)


@given(grant=grants, topic=topics)
def test_publish_grant_is_a_namespace(grant: str, topic: str) -> None:
    assert may_publish([grant], grant + topic)
    assert not may_publish([grant], grant.rstrip(".") + "x" + topic)  # "memory." does not cover "memoryx..."


@pytest.mark.parametrize("prefix", [b"", b"m", b"memory", b"memoryless.", b"\xff"])
def test_subscriptions_beyond_a_grant_are_refused(prefix: bytes) -> None:
    assert not may_subscribe(["memory."], prefix)


@given(topic=topics)
def test_valid_topics_parse(topic: str) -> None:
    assert parse_topic(topic.encode()) == topic


@pytest.mark.parametrize("raw", [b"", b"a..b", b".a", b"a.", b"A.b", b"a b", b"\xff", b"a" * 256, b"a/b"])
def test_malformed_topics_are_refused(raw: bytes) -> None:
    with pytest.raises(MalformedTopic):
        parse_topic(raw)


@pytest.mark.parametrize("grant", ["", "memory", ".", "a..", "Memory.", "*", "a.*"])
def test_bad_grants_are_refused(grant: str) -> None:
    with pytest.raises(BusConfigError):
        validate_grants([grant])
