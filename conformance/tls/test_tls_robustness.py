"""Garbage and half-open handshakes on the sync port are dropped; valid peers keep being served (TLS-006)."""

from __future__ import annotations

import os
import socket
import time

import pytest

from aico_secure.probes.tls import PARTIAL_CLIENT_HELLO, DeviceSet, SuitePki, closed_by_server, half_open

HANDSHAKE_TIMEOUT = 0.5


@pytest.mark.requirement("AICO-TLS-006")
def test_tls_server_drops_junk_and_keeps_serving(devices: DeviceSet, pki: SuitePki) -> None:
    a, _ = devices.open("device-a")
    _b, b_ident, port = devices.serving("device-b", handshake_timeout=HANDSHAKE_TIMEOUT)
    a.put("k", b"still served")
    for blob in (os.urandom(600), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\xff\xff" + os.urandom(64)):
        with socket.create_connection(("127.0.0.1", port), timeout=3) as junk:
            junk.sendall(blob)
            assert closed_by_server(junk, HANDSHAKE_TIMEOUT + 2.0), "the server kept a garbage connection open"
    held = half_open(port, 12) + half_open(port, 6, PARTIAL_CLIENT_HELLO)
    try:
        started = time.monotonic()
        assert a.push(pki.peer(port, b_ident)) == 1, "a valid peer was not served during half-open handshakes"
        assert time.monotonic() - started < 4.0, "the valid peer waited behind half-open handshakes"
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT + 3.0
        lingering = [c for c in held if not closed_by_server(c, max(0.05, deadline - time.monotonic()))]
        assert not lingering, f"{len(lingering)} half-open handshakes were never dropped"
    finally:
        for conn in held:
            conn.close()
