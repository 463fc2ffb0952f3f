"""Requests whose body stalls half-sent (AICO-GW-004): hundreds of them from the legitimate client's own address
do not stop a legitimate request from being served within ``STALLED_BODY_BOUND_SECONDS``.

Idle and half-sent request *heads* are covered by test_gw_connections; a request whose head is complete and
whose body never arrives is another state: the server has started serving it, so connection eviction does not
apply, and it holds a request slot (and a connection) until a body timeout ends it. Without one, a few dozen
such requests lock every client out for good. The hostile sockets stay open and silent for the whole test, so
only the server's own timeout can free what they hold.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable

import httpx
import pytest

from aico_secure.target.gateway import STALLED_BODY_BOUND_SECONDS, RunningGateway

from . import steps
from .gwclient import SuiteClient

STALLED = 300  # more than a small server's connection or concurrency limit (uvicorn's example: 256)
DECLARED, SENT = 4096, 16  # each stalled request declares a 4 KiB body and sends 16 bytes of it
POLL = 0.5


def _stall(gateway: RunningGateway, client: SuiteClient) -> socket.socket | None:
    """A TLS connection that sent a complete request head and the start of its body; None if the server refused
    or closed it (a server may, as long as the legitimate client is served)."""
    host, port = gateway.base_url.removeprefix("https://").rsplit(":", 1)
    try:
        sock = client.context.wrap_socket(socket.create_connection((host, int(port)), timeout=5),
                                          server_hostname=host)
        path = steps.login_path(gateway, "/v1/auth/challenge").encode()
        sock.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {DECLARED}\r\n\r\n".encode() + b'{"username": "' + b"a" * (SENT - 14))
    except (OSError, ssl.SSLError):
        return None
    return sock


def _served(client: SuiteClient) -> int | None:
    try:
        with client._new_http() as http:
            return http.get("/v1/health", timeout=5).status_code
    except httpx.HTTPError:
        return None


@pytest.mark.requirement("AICO-GW-004")
def test_stalled_request_bodies_do_not_deny_service(gateway: RunningGateway, client: SuiteClient,
                                                    evidence: Callable[[str, object], None]) -> None:
    hostile: list[socket.socket] = []
    try:
        for _ in range(STALLED):
            sock = _stall(gateway, client)
            if sock is not None:
                hostile.append(sock)
        began = time.monotonic()
        status = _served(client)
        while status != 200 and time.monotonic() - began < STALLED_BODY_BOUND_SECONDS:
            time.sleep(POLL)
            status = _served(client)
        took = time.monotonic() - began
    finally:
        for opened in hostile:
            opened.close()
    assert hostile, "no request with a stalled body could be started: the test checked nothing"
    assert status == 200, (f"with {len(hostile)} requests whose body stalled, a legitimate request was not served "
                           f"within {STALLED_BODY_BOUND_SECONDS:.0f} s (last answer: {status})")
    evidence("legitimate request under stalled bodies", f"200 after {took:.1f} s ({len(hostile)} stalled)")
