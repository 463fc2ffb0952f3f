"""The ZMTP greeting probe behind AICO-BUS-006's every-listener check: real libzmq listeners of each mechanism,
listeners that are not ZeroMQ, and hostile greeting bytes."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
from hypothesis import given
from hypothesis import strategies as st

from aico_secure.probes.zmtp import GREETING_BYTES, parse_greeting, read_greeting


@pytest.fixture
def ctx() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    try:
        yield context
    finally:
        context.destroy(0)
        _OPEN.clear()


_OPEN: list[zmq.Socket[bytes]] = []  # keeps each listener alive until its context is destroyed


def _listener(ctx: zmq.Context[zmq.Socket[bytes]], mechanism: str, endpoint: str) -> str:
    sock = ctx.socket(zmq.XPUB)
    _OPEN.append(sock)
    sock.linger = 0
    if mechanism == "CURVE":
        public, secret = zmq.curve_keypair()
        sock.curve_server, sock.curve_secretkey, sock.curve_publickey = True, secret, public
    elif mechanism == "PLAIN":
        sock.plain_server = True
    sock.bind(endpoint)
    return sock.getsockopt_string(zmq.LAST_ENDPOINT)


@pytest.mark.parametrize("mechanism", ["CURVE", "NULL", "PLAIN"])
def test_the_mechanism_of_a_tcp_listener(ctx: zmq.Context[zmq.Socket[bytes]], mechanism: str) -> None:
    greeting = read_greeting(_listener(ctx, mechanism, "tcp://127.0.0.1:*"))
    assert greeting.mechanism == mechanism and greeting.version is not None and greeting.version[0] == 3
    assert greeting.encrypted is (mechanism == "CURVE")


def test_the_mechanism_of_ipc_listeners(ctx: zmq.Context[zmq.Socket[bytes]], tmp_path: Path) -> None:
    named = _listener(ctx, "PLAIN", f"ipc://{tmp_path / 'bus.sock'}")
    abstract = _listener(ctx, "CURVE", f"ipc://@aico-greeting-test-{os.getpid()}")
    assert read_greeting(named).mechanism == "PLAIN"
    assert read_greeting(abstract).mechanism == "CURVE"


def _serve_once(reply: bytes) -> tuple[socket.socket, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        conn, _addr = listener.accept()
        with conn:
            if reply:
                conn.sendall(reply)
            conn.settimeout(2.0)
            try:
                conn.recv(64)
            except OSError:
                pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener, thread


@pytest.mark.parametrize("reply", [b"", b"HTTP/1.1 400 Bad Request\r\n\r\n" + b"x" * 64], ids=["silent", "http"])
def test_a_listener_that_is_not_zmtp_has_no_mechanism(reply: bytes) -> None:
    listener, thread = _serve_once(reply)
    with listener:
        greeting = read_greeting(f"tcp://127.0.0.1:{listener.getsockname()[1]}", timeout=0.5)
        thread.join(5)
    assert greeting.mechanism is None and not greeting.encrypted and greeting.error
    assert "no ZMTP greeting" in str(greeting)


def test_nothing_listening_has_no_mechanism() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    assert read_greeting(f"tcp://127.0.0.1:{port}", timeout=0.5).error.startswith("connect")
    assert read_greeting("inproc://no-wire").error.startswith("connect")


@given(st.binary(max_size=2 * GREETING_BYTES))
def test_any_bytes_parse_to_a_greeting_or_to_none(data: bytes) -> None:
    greeting = parse_greeting("tcp://127.0.0.1:1", data)
    if greeting.mechanism is not None:
        assert len(data) >= GREETING_BYTES and data[0] == 0xFF and data[10] >= 3
        assert greeting.mechanism.isalnum() and len(greeting.mechanism) <= 20
    else:
        assert greeting.error and not greeting.encrypted


@given(st.sampled_from([b"CURVE", b"NULL", b"PLAIN", b"GSSAPI"]), st.binary(min_size=32, max_size=32),
       st.integers(min_value=3, max_value=255))
def test_a_well_formed_greeting_names_its_mechanism(mechanism: bytes, tail: bytes, major: int) -> None:
    data = b"\xff" + b"\x00" * 8 + b"\x7f" + bytes([major, 1]) + mechanism.ljust(20, b"\x00") + tail
    greeting = parse_greeting("ipc://x", data)
    assert greeting.mechanism == mechanism.decode() and greeting.encrypted is (mechanism == b"CURVE")
