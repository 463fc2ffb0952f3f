"""Sync relies on TLS alone: records are opened before sending and sealed again on arrival."""

from __future__ import annotations

from aico_secure.reference.tls import ReferenceTls
from aico_secure.target import Target
from aico_secure.transport.sync import SyncDevice
from aico_secure.transport.sync.protocol import WireRecord

from ._base import reference_with

BREAKS = ("AICO-TLS-005",)


class PlainWireDevice(SyncDevice):
    def _outgoing(self) -> list[WireRecord]:
        return [WireRecord(k, self._sealer.open(k.encode(), v)) for k, v in self._records.items()]

    def _accept_incoming(self, records: list[WireRecord]) -> dict[str, bytes]:
        return {r.key: self._sealer.seal(r.key.encode(), r.value) for r in records}


class PlainWire(ReferenceTls):
    device_class = PlainWireDevice


def build() -> Target:
    return reference_with("sync records not sealed on the wire", tls=PlainWire())
