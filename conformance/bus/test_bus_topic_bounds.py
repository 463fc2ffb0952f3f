"""The topic length bound of the wire protocol is exact, for messages and for grants.

The contract allows topics of up to 255 bytes. A broker whose bound is tighter silently drops legitimate traffic of
components that name topics near the limit (AICO-BUS-008: well-formed messages keep flowing); one that admits a
grant longer than any topic records a permission that can never mean anything, which is how a typo in a grant
goes unnoticed (AICO-BUS-004: grants are checked when they are given, with the contract's ``ValueError``).
"""

from __future__ import annotations

import pytest
import zmq

from aico_secure.probes.bus import BusProbe, exchange, has_marker
from aico_secure.target.bus import BusBroker

TOPIC_LIMIT = 255  # bytes, from the contract (aico_secure/target/bus.py)
NAMESPACE = "edge."


def _topic(length: int) -> bytes:
    """A well-formed topic inside ``NAMESPACE`` of exactly ``length`` bytes."""
    return (NAMESPACE + "s" * (length - len(NAMESPACE))).encode("ascii")


@pytest.mark.requirement("AICO-BUS-008")
def test_bus_topics_up_to_the_limit_are_delivered(broker: BusBroker, probe: BusProbe) -> None:
    publisher = broker.enroll("edge-pub", publish=[NAMESPACE])
    subscriber = broker.enroll("edge-sub", subscribe=[NAMESPACE])
    pub = probe.allowed(publisher, zmq.PUB)
    sub = probe.allowed(subscriber, zmq.SUB, subscribe=[NAMESPACE.encode()])
    lengths = (len(NAMESPACE) + 1, 64, TOPIC_LIMIT - 1, TOPIC_LIMIT)
    sends = [(pub, [_topic(n), f"LEN-{n}-MARK".encode()]) for n in lengths]
    received = exchange(
        sends, [sub],
        done=lambda r: all(has_marker(r, sub.name, f"LEN-{n}-MARK".encode()) for n in lengths),
        window=5.0, settle=0.2,
    )
    missing = [n for n in lengths if not has_marker(received, sub.name, f"LEN-{n}-MARK".encode())]
    assert has_marker(received, sub.name, f"LEN-{len(NAMESPACE) + 1}-MARK".encode()), \
        "positive control: a short topic inside the grant was not delivered"
    assert not missing, f"well-formed topics of {missing} bytes (limit {TOPIC_LIMIT}) were not delivered"


@pytest.mark.requirement("AICO-BUS-004")
@pytest.mark.parametrize("direction", ["publish", "subscribe"])
def test_bus_grants_longer_than_any_topic_are_refused(broker: BusBroker, direction: str) -> None:
    too_long = _topic(TOPIC_LIMIT + 1).decode("ascii") + "."
    far_too_long = _topic(1000).decode("ascii") + "."
    for index, grant in enumerate((too_long, far_too_long)):
        with pytest.raises(ValueError):
            broker.enroll(f"long-{direction}-{index}", **{direction: [grant]})
    # positive control: the same broker takes a grant of ordinary length in the same direction
    broker.enroll(f"fine-{direction}", **{direction: ["fine."]})


@pytest.mark.requirement("AICO-BUS-008")
@pytest.mark.parametrize("over", [1, 745])
def test_bus_topics_over_the_limit_are_not_delivered(broker: BusBroker, probe: BusProbe, over: int) -> None:
    """The contract calls a longer topic malformed and not delivered: a bound enforced a byte late lets a
    component push names the subscribers' parsers were never promised to handle."""
    publisher = broker.enroll("over-pub", publish=[NAMESPACE])
    subscriber = broker.enroll("over-sub", subscribe=[NAMESPACE])
    pub = probe.allowed(publisher, zmq.PUB)
    sub = probe.allowed(subscriber, zmq.SUB, subscribe=[NAMESPACE.encode()])
    sends = [(pub, [_topic(TOPIC_LIMIT + over), b"OVER-LIMIT-MARK"]), (pub, [_topic(TOPIC_LIMIT), b"AT-LIMIT-MARK"])]
    received = exchange(sends, [sub], done=lambda r: has_marker(r, sub.name, b"AT-LIMIT-MARK"), window=5.0,
                        settle=0.5)
    assert has_marker(received, sub.name, b"AT-LIMIT-MARK"), \
        "positive control: a topic of exactly the limit, sent after the long one, was not delivered"
    assert not has_marker(received, sub.name, b"OVER-LIMIT-MARK"), (
        f"a topic of {TOPIC_LIMIT + over} bytes (limit {TOPIC_LIMIT}) was delivered")
