"""The broker key pair is a constant of the build (the real AICO bus shipped its broker secret in source).

Derived from a fixed seed at import rather than written out, so no key literal sits in this repository; the
effect is the same: every installation has the same broker key, and anyone with the build can be the broker.
"""

from __future__ import annotations

import hashlib

import zmq
from zmq.utils import z85

from aico_secure.reference.bus import ReferenceBus
from aico_secure.sensitive import SecretBytes
from aico_secure.target import Target
from aico_secure.transport.bus import Broker, CurveKeyPair

from ._base import reference_with

BREAKS = ("AICO-BUS-003",)


class ConstantKeyBroker(Broker):
    def _load_server_keys(self) -> CurveKeyPair:
        secret = z85.encode(hashlib.sha256(b"aico-bus-broker-built-in").digest())
        return CurveKeyPair(zmq.curve_public(secret), SecretBytes(secret))


class ConstantKeyBus(ReferenceBus):
    broker_class = ConstantKeyBroker


def build() -> Target:
    return reference_with("broker key pair built into the code", bus=ConstantKeyBus())
