"""Minimal federated device sync: sealed records pushed and pulled between a user's devices over mTLS 1.3."""

from aico_secure.transport.sync.device import Peer, RecordAuthenticationError, Sealer, SyncDevice
from aico_secure.transport.sync.server import SyncServer

__all__ = ["Peer", "RecordAuthenticationError", "Sealer", "SyncDevice", "SyncServer"]
