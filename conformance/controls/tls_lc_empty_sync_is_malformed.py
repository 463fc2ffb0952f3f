"""A device treats a push reply of zero stored records as malformed, so every sync from a fresh device fails.

The reply check is written as a truthiness test (``if not stored``), which folds "the peer stored nothing" into
"the peer sent no count": an empty sync between authenticated devices raises the contract's integrity error.
"""

from __future__ import annotations

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.errors import SyncError
from aico_secure.transport.sync import SyncDevice
from aico_secure.transport.sync.device import Peer
from aico_secure.transport.sync.protocol import encode_records

from ._base import reference_with

BREAKS = ("AICO-TLS-004",)


class TruthyReplyDevice(SyncDevice):
    def push(self, peer: Peer) -> int:
        response = self._exchange(peer, {"op": "push", "records": encode_records(self._outgoing())})
        stored = response.get("stored")
        if not stored or not isinstance(stored, int):
            raise SyncError("peer sent a malformed push reply")
        return stored


class TruthyReplyTls(ReferenceTls):
    device_class = TruthyReplyDevice


def build() -> Target:
    return reference_with("device that refuses an empty push reply", tls=TruthyReplyTls())
