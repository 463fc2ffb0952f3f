"""Lifecycle properties of the running pieces: they stop promptly and survive a broken audit sink."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import zmq

from aico_secure.audit.events import AuditEvent
from aico_secure.transport.bus import Broker, BrokerConfig
from aico_secure.transport.sync import SyncServer
from aico_secure.transport.tls import new_ca, server_context, write_identity


class _ExplodingSink:
    def record(self, event: AuditEvent) -> None:
        raise RuntimeError("audit store unavailable")


def test_sync_server_stops_promptly_with_half_open_connections(tmp_path: Path) -> None:
    ca = new_ca("unit")
    cert, key = write_identity(ca.issue("srv"), tmp_path, "srv")
    server = SyncServer(server_context(cert, key), lambda request: {"ok": True}, handshake_timeout=30.0)
    held = [socket.create_connection(server.address, timeout=2) for _ in range(5)]
    time.sleep(0.1)
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 3.0, "close() waited for half-open handshakes to time out"
    for conn in held:
        conn.close()


def test_broker_survives_a_failing_audit_sink(tmp_path: Path) -> None:
    with Broker.start(BrokerConfig(tmp_path), _ExplodingSink()) as broker:
        ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        try:
            null = ctx.socket(zmq.SUB)
            null.linger = 0
            null.connect(broker.subscribe_endpoint)
            deadline = time.monotonic() + 3
            while broker.stats.audit_errors == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            ctx.destroy(linger=0)
        assert broker.stats.auth_failures >= 1 and broker.stats.audit_errors >= 1
        assert broker.is_alive(), "a failing audit sink stopped the broker"
