"""One hostile local client at the connection level (AICO-GW-004, AICO-GW-005): a request head far over any
sane size is refused and the server stays up; hundreds of idle and half-sent connections from the client's own
address do not deny service to a legitimate request; and what the HTTP layer answers on its own (a malformed
request) carries the secure default headers like every other response.

Spoken over raw TLS sockets (the suite's own, trusting only the gateway's CA), so nothing here depends on how
a build's HTTP server is made. Each test stops by itself: bounded sizes, bounded waits.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Callable

import pytest

from aico_secure.target.gateway import RunningGateway

from .gwclient import SuiteClient

HOSTILE_PLAIN, HOSTILE_TLS = 50, 300  # more than a small server's connection limit (uvicorn's example: 256)
OVERSIZE_HEAD = 1 << 20  # 1 MiB of request head: 64 times what common servers accept (8-16 KiB)
MIN_HSTS_SECONDS = 31_536_000


def _address(gateway: RunningGateway) -> tuple[str, int]:
    host, port = gateway.base_url.removeprefix("https://").rsplit(":", 1)
    return host, int(port)


def _tls(gateway: RunningGateway, client: SuiteClient) -> ssl.SSLSocket:
    host, port = _address(gateway)
    return client.context.wrap_socket(socket.create_connection((host, port), timeout=10), server_hostname=host)


def _response_head(sock: ssl.SSLSocket, timeout: float = 10.0) -> bytes:
    """The status line and headers the server sent, or b"" if it closed without an answer."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError):
        pass
    return data.split(b"\r\n\r\n", 1)[0]


def _parse(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    return status, {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}


def _assert_secure_headers(headers: dict[str, str], what: str) -> None:
    assert headers.get("x-content-type-options", "").lower() == "nosniff", f"{what}: no X-Content-Type-Options"
    hsts = headers.get("strict-transport-security", "")
    max_age = next((p.split("=", 1)[1] for p in (x.strip() for x in hsts.split(";")) if p.startswith("max-age=")), "0")
    assert max_age.isdigit() and int(max_age) >= MIN_HSTS_SECONDS, f"{what}: HSTS missing or under a year"
    assert "no-store" in headers.get("cache-control", "").lower(), f"{what}: responses must not be cached"
    frame = headers.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN") or \
        "frame-ancestors" in headers.get("content-security-policy", "")
    assert frame, f"{what}: no framing protection (X-Frame-Options or CSP frame-ancestors)"


def _served(client: SuiteClient) -> int:
    with client._new_http() as http:
        return http.get("/v1/health").status_code


def _send_oversize_head(sock: ssl.SSLSocket) -> tuple[int, bytes]:
    """Send a request whose head is ``OVERSIZE_HEAD`` bytes; stop as soon as the server answers or closes.
    Returns (bytes sent, the answer's head or b"")."""
    sent, chunk = 0, b"a" * 65536
    try:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Oversize: ")
        while sent < OVERSIZE_HEAD:
            sock.sendall(chunk)
            sent += len(chunk)
            if select.select([sock], [], [], 0)[0]:
                return sent, _response_head(sock)
        sock.sendall(b"\r\n\r\n")
    except (OSError, ssl.SSLError):
        return sent, b""  # closed on us: refused
    return sent, _response_head(sock)


@pytest.mark.requirement("AICO-GW-004")
def test_oversize_request_head_is_refused_and_the_server_stays_up(gateway: RunningGateway, client: SuiteClient,
                                                                  evidence: Callable[[str, object], None]) -> None:
    with _tls(gateway, client) as sock:
        sent, head = _send_oversize_head(sock)
    if head:
        status, _ = _parse(head)
        assert 400 <= status < 500, f"a {OVERSIZE_HEAD >> 20} MiB request head was answered {status}, not a 4xx"
    assert _served(client) == 200, "the server did not stay up after an oversize request head"
    evidence("oversize head", f"refused after {sent} bytes ({'answered' if head else 'closed'})")


@pytest.mark.requirement("AICO-GW-004")
def test_idle_and_half_sent_connections_do_not_deny_service(gateway: RunningGateway, client: SuiteClient,
                                                            evidence: Callable[[str, object], None]) -> None:
    """Sockets that never start TLS, sit idle after it, or send half a request head, all from the address the
    legitimate client uses too (127.0.0.1): the legitimate request is still served."""
    host, port = _address(gateway)
    hostile: list[socket.socket] = []
    try:
        for _ in range(HOSTILE_PLAIN):
            hostile.append(socket.create_connection((host, port), timeout=10))
        for index in range(HOSTILE_TLS):
            try:
                sock = _tls(gateway, client)
            except (OSError, ssl.SSLError):
                continue  # a build may refuse or evict: fine, as long as the legitimate client is served
            hostile.append(sock)
            if index % 2:
                try:
                    sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                except (OSError, ssl.SSLError):
                    pass
        began = time.monotonic()
        status = _served(client)
        took = time.monotonic() - began
    finally:
        for opened in hostile:
            opened.close()
    assert status == 200, f"with {HOSTILE_PLAIN + HOSTILE_TLS} idle or half-sent connections open, a legitimate " \
                          f"request was answered {status}"
    evidence("legitimate request under idle connections", f"200 in {took:.2f} s")


@pytest.mark.requirement("AICO-GW-005")
@pytest.mark.parametrize("request_bytes", [b"NOT A REQUEST\r\n\r\n", b"GET /v1/health HTTP/1.1\r\nBad Header\r\n\r\n"],
                         ids=["request-line", "header-line"])
def test_answers_to_malformed_requests_carry_the_secure_headers(gateway: RunningGateway, client: SuiteClient,
                                                                request_bytes: bytes) -> None:
    """What the HTTP layer answers before any route runs is a response like any other (a server may also just
    close the connection)."""
    with _tls(gateway, client) as sock:
        sock.sendall(request_bytes)
        head = _response_head(sock)
    if head:
        status, headers = _parse(head)
        assert 400 <= status < 500, f"a malformed request was answered {status}"
        _assert_secure_headers(headers, f"answer to a malformed request ({status})")
    with _tls(gateway, client) as sock:
        _, head = _send_oversize_head(sock)
    if head:
        status, headers = _parse(head)
        _assert_secure_headers(headers, f"answer to an oversize request head ({status})")
