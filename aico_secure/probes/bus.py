"""Bus probes: the suite's own ZeroMQ clients against any build's broker (see ``aico_secure.target.bus``).

Each probe client is a real pyzmq socket with its own monitor, so a test can tell "the handshake never
succeeded" from "the handshake succeeded but no message came", and every negative result is measured next to a
positive control in the same time window: an allowed subscriber that *does* receive proves the window was long
enough, so "nothing got through" is never the result of a probe that ran nothing.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import zmq
from zmq.utils.monitor import recv_monitor_message

from aico_secure.audit.events import AuditEvent
from aico_secure.probes.relay import CaptureRelay
from aico_secure.target.bus import BusBroker, BusCredentials

TICK = 0.02
_HANDSHAKE_EVENTS = (zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
                     | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_AUTH
                     | zmq.EVENT_DISCONNECTED)
# A ZMTP 3.0 greeting asking for CURVE, as a client (signature, version, mechanism, as-server, filler).
ZMTP_CURVE_GREETING = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"CURVE".ljust(20, b"\x00") + b"\x00" * 32


class RecordingSink:
    """A thread-safe ``AuditSink`` that keeps every event (builds may report from their own threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        with self._lock:
            self._events.append(event)

    def events(self, *, category: str | None = None, result: str | None = None) -> list[AuditEvent]:
        with self._lock:
            return [e for e in self._events
                    if (category is None or e.category == category) and (result is None or e.result == result)]


@dataclass
class ProbeClient:
    """One probe socket and what its monitor has reported."""

    name: str
    socket: zmq.Socket[bytes]
    monitor: zmq.Socket[bytes]
    events: list[int] = field(default_factory=list)

    def drain_events(self) -> list[int]:
        while True:
            try:
                self.events.append(int(recv_monitor_message(self.monitor, zmq.NOBLOCK)["event"]))
            except zmq.Again:
                return self.events

    @property
    def handshake_succeeded(self) -> bool:
        return zmq.EVENT_HANDSHAKE_SUCCEEDED in self.drain_events()

    @property
    def handshake_failed(self) -> bool:
        failed = {zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                  zmq.EVENT_HANDSHAKE_FAILED_AUTH, zmq.EVENT_DISCONNECTED}
        return bool(failed.intersection(self.drain_events()))

    def wait_handshake(self, timeout: float) -> bool:
        """True once the handshake succeeded; False if it had not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.handshake_succeeded:
                return True
            time.sleep(TICK)
        return self.handshake_succeeded


class BusProbe:
    """Makes probe clients for one broker and closes them all in ``close()``."""

    def __init__(self, broker: BusBroker) -> None:
        self.broker = broker
        self.context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.clients: list[ProbeClient] = []
        self._made = 0

    def _client(self, name: str, kind: int, endpoint: str | None, setup: Callable[[zmq.Socket[bytes]], None],
                subscribe: Sequence[bytes] = ()) -> ProbeClient:
        sock = self.context.socket(kind)
        sock.linger = 0
        sock.rcvtimeo = 0
        sock.setsockopt(zmq.RECONNECT_IVL, 50)
        setup(sock)
        monitor = sock.get_monitor_socket(_HANDSHAKE_EVENTS)
        if kind == zmq.SUB:
            for prefix in subscribe:
                sock.setsockopt(zmq.SUBSCRIBE, prefix)
        target = endpoint or (self.broker.subscribe_endpoint if kind == zmq.SUB else self.broker.publish_endpoint)
        sock.connect(target)
        self._made += 1
        client = ProbeClient(f"{name}/{self._made}", sock, monitor)  # unique: results are keyed by name
        self.clients.append(client)
        return client

    def curve(self, name: str, kind: int, public: bytes, secret: bytes, server_key: bytes, *,
              endpoint: str | None = None, subscribe: Sequence[bytes] = ()) -> ProbeClient:
        def setup(sock: zmq.Socket[bytes]) -> None:
            sock.curve_publickey, sock.curve_secretkey, sock.curve_serverkey = public, secret, server_key
        return self._client(name, kind, endpoint, setup, subscribe)

    def allowed(self, creds: BusCredentials, kind: int, *, endpoint: str | None = None,
                subscribe: Sequence[bytes] = ()) -> ProbeClient:
        """A client with credentials the build issued, pinning the broker key the build reported."""
        return self.curve(f"allowed:{creds.component}", kind, creds.public_key, creds.secret_key.reveal(),
                          self.broker.server_key, endpoint=endpoint, subscribe=subscribe)

    def stranger(self, kind: int, *, endpoint: str | None = None, subscribe: Sequence[bytes] = ()) -> ProbeClient:
        """A well-formed CURVE client whose key the build never saw."""
        public, secret = zmq.curve_keypair()
        return self.curve("unlisted-key", kind, public, secret, self.broker.server_key, endpoint=endpoint,
                          subscribe=subscribe)

    def wrong_server(self, creds: BusCredentials, kind: int, *, subscribe: Sequence[bytes] = ()) -> ProbeClient:
        """An allowed key that pins a different broker key (what a client talking to an impostor would do)."""
        impostor, _secret = zmq.curve_keypair()
        return self.curve("wrong-server-key", kind, creds.public_key, creds.secret_key.reveal(), impostor,
                          subscribe=subscribe)

    def null(self, kind: int, *, endpoint: str | None = None, subscribe: Sequence[bytes] = ()) -> ProbeClient:
        return self._client("null-mechanism", kind, endpoint, lambda sock: None, subscribe)

    def plain(self, kind: int, *, endpoint: str | None = None, subscribe: Sequence[bytes] = ()) -> ProbeClient:
        def setup(sock: zmq.Socket[bytes]) -> None:
            sock.plain_username, sock.plain_password = b"admin", b"admin"
        return self._client("plain-mechanism", kind, endpoint, setup, subscribe)

    def discard(self, client: ProbeClient) -> None:
        """Close one probe client now (e.g. to stop a refused client from retrying)."""
        try:
            client.socket.disable_monitor()
        except zmq.ZMQError:
            pass
        client.monitor.close(0)
        client.socket.close(0)
        if client in self.clients:
            self.clients.remove(client)

    def close(self) -> None:
        for client in list(self.clients):
            self.discard(client)
        self.context.destroy(linger=0)


Received = dict[str, list[list[bytes]]]


@dataclass
class ProbePair:
    """An allowed publisher and an allowed subscriber on the ``probe.`` namespace."""

    pub_creds: BusCredentials
    sub_creds: BusCredentials
    pub: ProbeClient
    sub: ProbeClient

    @classmethod
    def enroll(cls, broker: BusBroker, probe: BusProbe) -> ProbePair:
        pub_creds = broker.enroll("probe-pub", publish=["probe."])
        sub_creds = broker.enroll("probe-sub", subscribe=["probe."])
        return cls(pub_creds, sub_creds, probe.allowed(pub_creds, zmq.PUB),
                   probe.allowed(sub_creds, zmq.SUB, subscribe=[b"probe."]))


def has_marker(received: Received, name: str, marker: bytes) -> bool:
    """Did the named receiver get any frame containing ``marker``?"""
    return any(marker in frame for message in received.get(name, []) for frame in message)


def exchange(sends: Sequence[tuple[ProbeClient, Sequence[bytes]]], receivers: Sequence[ProbeClient], *,
             done: Callable[[Received], bool], window: float = 3.0, settle: float = 0.3) -> Received:
    """Every tick, each publisher sends its message; collect what every receiver gets.

    Stops ``settle`` seconds after ``done(received)`` first holds (so late deliveries to receivers that must get
    nothing are still seen), or after ``window`` seconds. PUB/SUB drops messages sent before a subscription is
    in place; repeating them is how the probe tolerates that without sleeping blindly.
    """
    received: Received = {r.name: [] for r in receivers}
    poller = zmq.Poller()
    for r in receivers:
        poller.register(r.socket, zmq.POLLIN)
    deadline = time.monotonic() + window
    stop_at: float | None = None
    by_socket = {r.socket: r for r in receivers}
    while time.monotonic() < (stop_at or deadline):
        for client, frames in sends:
            try:
                client.socket.send_multipart(list(frames), zmq.NOBLOCK)
            except zmq.Again:
                pass
        for sock, _ev in poller.poll(int(TICK * 1000)):
            receiver = by_socket[sock]
            while True:
                try:
                    received[receiver.name].append(receiver.socket.recv_multipart(zmq.NOBLOCK))
                except zmq.Again:
                    break
        if stop_at is None and done(received):
            stop_at = min(deadline, time.monotonic() + settle)
    return received


def payloads(received: Received, name: str) -> list[bytes]:
    """Every frame the named receiver got (flattened), to search for markers regardless of framing."""
    return [frame for message in received.get(name, []) for frame in message]


def tcp_address(endpoint: str) -> tuple[str, int]:
    """(host, port) of a ``tcp://`` endpoint; raises ``ValueError`` for other transports."""
    parts = urlsplit(endpoint)
    if parts.scheme != "tcp" or parts.hostname is None or parts.port is None:
        raise ValueError(f"not a tcp endpoint: {endpoint}")
    return parts.hostname, parts.port


def is_loopback_endpoint(endpoint: str) -> bool:
    """The suite's own judgement of an endpoint (independent of any build's code): ``ipc://`` and
    ``inproc://`` are local; ``tcp://`` must name a loopback address. Wildcards and names are not loopback."""
    parts = urlsplit(endpoint)
    if parts.scheme in ("ipc", "inproc"):
        return True
    if parts.scheme != "tcp":
        return False
    host = parts.netloc.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reachable_form(endpoint: str) -> str:
    """How a local client reaches a bound endpoint: a wildcard bind (``0.0.0.0``, ``*``, ``::``) via loopback."""
    parts = urlsplit(endpoint)
    if parts.scheme == "tcp":
        host, _sep, port = parts.netloc.rpartition(":")
        if host in ("*", "0.0.0.0", "[::]", "::"):  # noqa: S104 - recognising a wildcard, not binding one
            return f"tcp://127.0.0.1:{port}"
    return endpoint


def endpoint_port(endpoint: str) -> int | None:
    """The TCP port of a ``tcp://host:port`` endpoint, or None for other transports."""
    parts = urlsplit(endpoint)
    port = parts.netloc.rpartition(":")[2]
    return int(port) if parts.scheme == "tcp" and port.isdigit() else None


def relay_for(endpoint: str, directory: Path) -> CaptureRelay:
    """A capture relay in front of a ``tcp://`` or ``ipc://`` bus endpoint; connect probe clients to its
    ``endpoint`` instead of the broker's."""
    if endpoint.startswith("ipc://"):
        return CaptureRelay(endpoint[len("ipc://"):], directory)
    return CaptureRelay(tcp_address(endpoint), directory)


def raw_connection(endpoint: str, data: bytes, *, hold: float = 0.0, timeout: float = 2.0) -> bytes:
    """Open a plain TCP connection to a bus endpoint, send ``data``, optionally hold it open, return what came
    back before the server closed (or ``timeout`` passed)."""
    host, port = tcp_address(endpoint)
    reply = b""
    with socket.create_connection((host, port), timeout=timeout) as conn:
        try:
            if data:
                conn.sendall(data)
            if hold:
                time.sleep(hold)
            conn.settimeout(0.1)
            while len(reply) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except OSError:
            pass
    return reply


def garbage_payloads() -> list[bytes]:
    """Byte strings that are not a valid ZMTP session: random bytes, HTTP, a greeting followed by junk."""
    return [
        os.urandom(512),
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        ZMTP_CURVE_GREETING + os.urandom(200),
        ZMTP_CURVE_GREETING[:11],
        b"\xff" * 4096,
    ]
