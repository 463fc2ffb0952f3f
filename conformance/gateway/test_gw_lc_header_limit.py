"""AICO-GW-004: the declared request-head limit (``policy.max_header_bytes``) is the one enforced, on every
step of the login protocol: a head of exactly the limit is served, one byte more is refused (431 or closed).

Raw TLS sockets, so the suite controls every byte of the head (an HTTP client library adds headers of its own).
"""

from __future__ import annotations

import socket
import ssl

import pytest

from aico_secure.target.gateway import RunningGateway

from . import steps
from .gwclient import SuiteClient

ROUTES = ("/v1/auth/challenge", "/v1/auth/verify", "/v1/auth/refresh")
BODY = b"{}"


def _head(route: str, host: str, size: int) -> bytes:
    """A POST head of exactly ``size`` bytes (blank line included), padded with one filler header."""
    fixed = (f"POST {route} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
             f"content-length: {len(BODY)}\r\nx-pad: ").encode()
    pad = size - len(fixed) - len(b"\r\n\r\n")
    assert pad > 0, f"max_header_bytes {size} is too small to hold a request line and three headers"
    head = fixed + b"a" * pad + b"\r\n\r\n"
    assert len(head) == size
    return head


def _status(gateway: RunningGateway, client: SuiteClient, data: bytes) -> int | None:
    """The status the gateway answered with, or None when it closed without answering."""
    host, port = gateway.base_url.removeprefix("https://").rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=10)
    with client.context.wrap_socket(raw, server_hostname=host) as sock:
        try:
            sock.sendall(data)
            received = b""
            while b"\r\n" not in received:
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                received += chunk
        except (OSError, ssl.SSLError):
            return None
    return int(received.split(b" ", 2)[1])


@pytest.mark.requirement("AICO-GW-004")
@pytest.mark.parametrize("route", ROUTES)
def test_declared_head_limit_is_the_enforced_one(shared_gateway: RunningGateway, route: str) -> None:
    limit = shared_gateway.policy.max_header_bytes
    assert isinstance(limit, int) and 1024 <= limit <= 1 << 20, (
        f"policy.max_header_bytes must declare the head limit in bytes (1 KiB..1 MiB), not {limit!r}")
    host = shared_gateway.base_url.removeprefix("https://")
    route = steps.login_path(shared_gateway, route)
    with SuiteClient(shared_gateway) as client:
        at = _status(shared_gateway, client, _head(route, host, limit) + BODY)
        assert at is not None and at != 431 and at < 500, (
            f"{route}: a head of exactly max_header_bytes ({limit}) was refused ({at}): the declared limit is "
            "not the enforced one")
        over = _status(shared_gateway, client, _head(route, host, limit + 1) + BODY)
        assert over is None or over == 431, (
            f"{route}: a head one byte over max_header_bytes ({limit}) got {over}, not 431 or a closed connection")
