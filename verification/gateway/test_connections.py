"""One hostile local client against the gateway's connection layer, over real sockets on 127.0.0.1.

Slow request heads, idle sockets before and after TLS, a 64 MiB request head, rounds of sockets that never
start TLS, a request that trickles its body: none may deny service to a legitimate client, hold a connection
beyond its timeout, or grow the server's memory. Limits are passed small through ``ConnectionLimits`` so every
test stops by itself within seconds. The connection table's caps and eviction are property-tested alone.
"""

from __future__ import annotations

import gc
import select
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aico_secure.gateway.config import ConnectionLimits, GatewayConfig
from aico_secure.gateway.connections import Connection, ConnectionTable
from aico_secure.gateway.middleware import SECURITY_HEADERS
from aico_secure.reference.gateway import ReferenceGateway, ReferenceRunningGateway
from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession

Start = Callable[[ConnectionLimits], ReferenceRunningGateway]
ROUNDS, ROUND_SOCKETS, MEMORY_CAP = 8, 200, 16
HEADER_NAMES = {name.decode() for name, _ in SECURITY_HEADERS}


@pytest.fixture
def session(tmp_path: Path) -> Iterator[ReferenceKeySession]:
    keys = ReferenceKeys().create(tmp_path / "keys", "pw-for-gateway-unit-tests", fast_kdf=True)
    yield keys
    keys.close()


@pytest.fixture
def start(session: ReferenceKeySession, tmp_path: Path) -> Iterator[Start]:
    started: list[ReferenceRunningGateway] = []

    def run(limits: ConnectionLimits) -> ReferenceRunningGateway:
        gateway = ReferenceGateway(GatewayConfig(connections=limits)).start(session, tmp_path / "gw")
        started.append(gateway)
        return gateway

    yield run
    for gateway in started:
        gateway.stop()


def _port(gateway: ReferenceRunningGateway) -> int:
    return int(gateway.base_url.rsplit(":", 1)[1])


def _context(gateway: ReferenceRunningGateway) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=gateway.ca_pem.decode())


def _tcp(gateway: ReferenceRunningGateway) -> socket.socket:
    return socket.create_connection(("127.0.0.1", _port(gateway)), timeout=5)


def _tls(gateway: ReferenceRunningGateway) -> ssl.SSLSocket:
    return _context(gateway).wrap_socket(_tcp(gateway), server_hostname="127.0.0.1")


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> float | None:
    """Seconds until the server closed ``sock`` (sending ``trickle`` a byte at a time meanwhile), or None if it
    was still open after ``seconds``."""
    began = time.monotonic()
    sock.settimeout(0.1)
    sent = 0
    while time.monotonic() - began < seconds:
        try:
            if trickle:
                sock.sendall(trickle[sent % len(trickle):][:1])
                sent += 1
            if sock.recv(4096) == b"":
                return time.monotonic() - began
        except (TimeoutError, ssl.SSLWantReadError):
            continue
        except (OSError, ssl.SSLError):
            return time.monotonic() - began
    return None


def _headers_of(raw: bytes) -> tuple[int, dict[str, str]]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    return status, {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:])}


def _read_response(sock: socket.socket, limit: float = 5.0) -> bytes:
    sock.settimeout(limit)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _assert_secure_headers(headers: dict[str, str]) -> None:
    missing = HEADER_NAMES - set(headers)
    assert not missing, f"response lacks security headers {sorted(missing)}"
    assert "server" not in headers


# ---- the legitimate client is still served ----------------------------------------------------------------
def test_idle_and_slow_connections_do_not_deny_service(start: Start) -> None:
    """300 sockets of one local client (idle before TLS, idle after TLS, sending a head slowly) and then a
    legitimate request from the same address: served, with the security headers; the caps held."""
    limits = ConnectionLimits()
    gateway = start(limits)
    hostile: list[socket.socket] = []  # plain and TLS sockets
    try:
        hostile += [_tcp(gateway) for _ in range(100)]
        for index in range(200):
            sock = _tls(gateway)
            if index % 2:
                sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")  # and never the rest
            hostile.append(sock)
        with httpx.Client(base_url=gateway.base_url, verify=_context(gateway), timeout=10) as http:
            response = http.get("/v1/health")
        assert response.status_code == 200, f"a legitimate client was answered {response.status_code}"
        _assert_secure_headers(dict(response.headers))
        table = gateway._server.connections
        assert len(table) <= limits.max_connections and table.count("127.0.0.1") <= limits.max_per_address
        assert table.evicted >= 300 - limits.max_per_address, "the per-address cap was not enforced"
    finally:
        for opened in hostile:
            opened.close()


# ---- every stalled stage ends in time -----------------------------------------------------------------------
def test_stalled_connections_are_closed_after_their_timeouts(start: Start) -> None:
    limits = ConnectionLimits(tls_handshake_timeout=0.5, idle_timeout=0.5, header_timeout=1.0)
    gateway = start(limits)
    with _tcp(gateway) as no_tls:
        waited = _closed_within(no_tls, 6)
        assert waited is not None and waited < 4, "a socket that never starts TLS was kept open"
    with _tls(gateway) as idle:
        waited = _closed_within(idle, 6)
        assert waited is not None and waited < 4, "a TLS connection that sends nothing was kept open"
    with _tls(gateway) as slow:
        waited = _closed_within(slow, 6, trickle=b"GET /v1/health HTTP/1.1\r\nX-Slow: " + b"a" * 4096)
        assert waited is not None, "a request head sent a byte at a time was never cut off"
        assert 0.8 < waited < 4, f"slow head closed after {waited:.1f} s; header timeout is 1 s"


def test_keep_alive_connection_is_closed_when_idle(start: Start) -> None:
    gateway = start(ConnectionLimits(idle_timeout=0.5, header_timeout=1.0))
    with _tls(gateway) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers = _headers_of(_read_response(sock))
        assert status == 200 and headers.get("connection") != "close"
        waited = _closed_within(sock, 6)
        assert waited is not None and waited < 4, "an idle keep-alive connection was kept open"


# ---- oversize heads, protocol errors, the in-flight cap: the gateway's own answers ----------------------
def test_64_mib_request_head_is_refused_quickly_without_memory_growth(start: Start) -> None:
    gateway = start(ConnectionLimits())
    process = psutil.Process()
    before = process.memory_info().rss
    began = time.monotonic()
    sent, answer = 0, b""
    chunk = b"a" * (256 * 1024)
    with _tls(gateway) as sock:
        try:
            sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ")
            while sent < 64 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
                if select.select([sock], [], [], 0)[0]:
                    answer = _read_response(sock)
                    break
        except (OSError, ssl.SSLError):
            pass  # the server closed the connection: refused
    elapsed = time.monotonic() - began
    assert sent < 16 * 1024 * 1024, f"the server kept reading a request head for {sent >> 20} MiB"
    assert elapsed < 10, f"refusing an oversize head took {elapsed:.1f} s"
    if answer:
        status, headers = _headers_of(answer)
        assert status in (400, 431)
        _assert_secure_headers(headers)
    assert process.memory_info().rss - before < 32 * 1024 * 1024, "an oversize request head grew memory"
    with httpx.Client(base_url=gateway.base_url, verify=_context(gateway)) as http:
        assert http.get("/v1/health").status_code == 200


def test_oversize_head_gets_431_with_security_headers(start: Start) -> None:
    limits = ConnectionLimits()
    gateway = start(limits)
    with _tls(gateway) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (limits.max_header_bytes + 1024)
                     + b"\r\n\r\n")
        status, headers = _headers_of(_read_response(sock))
    assert status == 431
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    _assert_secure_headers(headers)


def test_malformed_request_gets_json_400_with_security_headers(start: Start) -> None:
    gateway = start(ConnectionLimits())
    with _tls(gateway) as sock:
        sock.sendall(b"NOT A REQUEST\r\n\r\n")
        raw = _read_response(sock)
    status, headers = _headers_of(raw)
    assert status == 400 and headers["content-type"] == "application/json"
    assert b'"error": "invalid_request"' in raw
    _assert_secure_headers(headers)


def test_in_flight_limit_answers_503_with_security_headers_and_slow_bodies_time_out(start: Start) -> None:
    """Hitting the concurrency limit gets the gateway's JSON 503 (uvicorn's own lacks the headers); the request
    holding the only slot by trickling its body is cut off with a 408 after the body timeout."""
    gateway = start(ConnectionLimits(max_in_flight=1, body_timeout=1.0))
    with _tls(gateway) as holder:
        holder.sendall(b"POST /v1/auth/challenge HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 100\r\n\r\n{")
        time.sleep(0.2)
        with httpx.Client(base_url=gateway.base_url, verify=_context(gateway), timeout=10) as http:
            refused = http.get("/v1/health")
        assert refused.status_code == 503 and refused.headers["retry-after"].isdigit()
        assert refused.json()["error"] == "service_unavailable"
        _assert_secure_headers(dict(refused.headers))
        began = time.monotonic()
        status, headers = _headers_of(_read_response(holder))
        assert status == 408 and time.monotonic() - began < 4
        _assert_secure_headers(headers)
    with httpx.Client(base_url=gateway.base_url, verify=_context(gateway), timeout=10) as http:
        assert http.get("/v1/health").status_code == 200, "the slot was not given back"


# ---- memory across rounds of connections that never start TLS ----------------------------------------------
def _tls_layers() -> int:
    import asyncio.sslproto

    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, asyncio.sslproto.SSLProtocol))


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[tuple[psutil.Process, int]]:
    """The HTTPS server alone in a child process (``memory_server``), so its memory is measured without the
    test runner's; it stops when its stdin closes."""
    child = subprocess.Popen([sys.executable, "-m", "verification.gateway.memory_server", str(tmp_path),
                              str(MEMORY_CAP)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    try:
        assert child.stdout is not None and child.stdin is not None
        port = int(child.stdout.readline())
        yield psutil.Process(child.pid), port
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@pytest.mark.parametrize("opening", [b"", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64],
                         ids=["silent", "partial-hello"])
def test_rounds_of_connections_without_tls_give_memory_back(server_process: tuple[psutil.Process, int],
                                                            opening: bytes) -> None:
    """Each round opens 200 sockets that never complete TLS and closes them; the server (caps small, 16
    connections) must end each round where the first one ended: nothing of a closed connection survives it
    (before, memory grew round after round)."""
    process, port = server_process
    idle_fds = process.num_fds()
    rss: list[int] = []
    for _ in range(ROUNDS):
        sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(ROUND_SOCKETS)]
        for sock in sockets:
            if opening:
                sock.sendall(opening)
        time.sleep(0.2)
        for sock in sockets:
            sock.close()
        deadline = time.monotonic() + 5
        while process.num_fds() > idle_fds and time.monotonic() < deadline:  # the server has closed them all
            time.sleep(0.05)
        time.sleep(0.1)
        rss.append(process.memory_info().rss)
    settled = min(_sample_rss(process) for _ in range(10))
    shown = f"{[r >> 20 for r in rss]} MiB, then {settled >> 20} MiB"
    assert max(rss) - rss[0] < 24 * 1024 * 1024, f"memory grew beyond what the caps allow: {shown}"
    assert settled - rss[0] < 8 * 1024 * 1024, f"memory did not come back after the rounds: {shown}"


def _sample_rss(process: psutil.Process) -> int:
    time.sleep(0.1)
    return int(process.memory_info().rss)


def test_tls_layer_does_not_outlive_its_connection(start: Start) -> None:
    """A socket closed before its handshake leaves nothing behind (before, its TLS layer stayed alive with
    its buffers until the handshake timer fired)."""
    gateway = start(ConnectionLimits())
    for _ in range(3):
        sockets = [_tcp(gateway) for _ in range(100)]
        time.sleep(0.1)
        for sock in sockets:
            sock.close()
    time.sleep(0.5)
    assert _tls_layers() == 0, "TLS layers of closed connections are still alive"
    assert len(gateway._server.connections) == 0


# ---- the connection table on its own ------------------------------------------------------------------------
def _table(per_address: int = 3, total: int = 5) -> tuple[ConnectionTable, list[Connection]]:
    closed: list[Connection] = []
    table = ConnectionTable(ConnectionLimits(max_connections=total, max_per_address=per_address),
                            clock=iter(range(10_000)).__next__)
    return table, closed


def _admit(table: ConnectionTable, closed: list[Connection], host: str) -> Connection | None:
    box: list[Connection] = []
    connection = table.admit(host, lambda: closed.append(box[0]))
    if connection is not None:
        box.append(connection)
    return connection


def test_table_evicts_the_oldest_idle_connection_of_the_full_address() -> None:
    table, closed = _table()
    first, second, third = (_admit(table, closed, "127.0.0.1") for _ in range(3))
    assert first and second and third
    table.mark(first, "busy")
    table.mark(second, "waiting")
    table.mark(third, "waiting")
    newest = _admit(table, closed, "127.0.0.1")
    assert newest is not None and closed == [second], "the oldest idle connection must make room"
    assert first.open and table.count("127.0.0.1") == 3


def test_table_refuses_only_when_every_slot_serves_a_request() -> None:
    table, closed = _table(per_address=2, total=2)
    for connection in (_admit(table, closed, "10.0.0.1"), _admit(table, closed, "10.0.0.1")):
        assert connection is not None
        table.mark(connection, "busy")
    assert _admit(table, closed, "10.0.0.1") is None and table.refused == 1 and not closed


def test_table_global_cap_takes_from_the_heaviest_address() -> None:
    table, closed = _table(per_address=4, total=5)
    light = _admit(table, closed, "10.0.0.1")
    heavy = [_admit(table, closed, "10.0.0.2") for _ in range(4)]
    assert light and all(heavy)
    assert _admit(table, closed, "10.0.0.3") is not None
    assert closed == [heavy[0]] and light.open


@given(st.lists(st.tuples(st.sampled_from(["admit", "busy", "wait", "close"]), st.integers(0, 3),
                          st.integers(0, 40)), max_size=120))
def test_table_never_exceeds_its_caps_nor_evicts_a_busy_connection(ops: list[tuple[str, int, int]]) -> None:
    table, closed = _table(per_address=3, total=5)
    live: list[Connection] = []
    for op, host, pick in ops:
        if op == "admit":
            busy_before = [c for c in live if c.stage == "busy"]
            connection = _admit(table, closed, f"10.0.0.{host}")
            if connection is None:
                same = [c for c in live if c.key == connection_key(host)]
                assert len(busy_before) == len(live) or all(c.stage == "busy" for c in same)
            else:
                live.append(connection)
            assert all(c.open for c in busy_before), "a connection serving a request was evicted"
            live = [c for c in live if c.open]
        elif live:
            connection = live[pick % len(live)]
            if op == "close":
                table.release(connection)
                live.remove(connection)
            else:
                table.mark(connection, "busy" if op == "busy" else "waiting")
        assert len(table) == len(live) <= 5
        assert all(table.count(f"10.0.0.{h}") <= 3 for h in range(4))


def connection_key(host: int) -> str:
    return f"ip:10.0.0.{host}"


def test_failure_before_any_response_gets_json_500_with_security_headers() -> None:
    """An error outside the routes (in a wrapper, before any response) is answered by the gateway's 500 with
    the security headers, not by uvicorn's plain-text one."""
    import asyncio

    from aico_secure.gateway.middleware import SecurityHeaders

    async def broken(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("boom")

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    with pytest.raises(RuntimeError):
        asyncio.run(SecurityHeaders(broken)({"type": "http", "headers": []}, receive, send))  # type: ignore[arg-type]
    start = sent[0]
    assert start["status"] == 500
    headers = {name.decode(): value for name, value in start["headers"]}  # type: ignore[attr-defined]
    _assert_secure_headers(headers)
