"""What the bus's ZAP handler reads: one ZAP request (RFC 27), through ``AllowlistAuthenticator``'s own handler.

The handler runs on pyzmq's authenticator thread; an exception there ends that thread, after which no handshake
is ever answered and the whole bus is closed to every component. So this surface has no refusals: every request
must be answered (if it carries a request id) or ignored, never raised on. The frames the handler gets are
libzmq's (version, request id, domain, address, routing id, mechanism, credentials); a client chooses its routing
id and its key, and the rest is fuzzed as well so the handler holds up whatever libzmq version writes them.

Each input is the request's frames (``_multipart`` layout) given to ``handle_zap_message``, with the reply socket
a real PAIR on inproc instead of the ZAP endpoint. Every reply is checked against RFC 27 and the allowlist,
computed independently: exactly one reply echoing the request id, and status 200 with the component's
``name#generation`` User-Id only for a version 1.0 CURVE request in the bus's domain whose key is a live
enrollment; 400 with no User-Id for everything else.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import zmq
from zmq.utils import z85

from aico_secure.fuzz._harness import _multipart
from aico_secure.fuzz.interface import Harness
from aico_secure.transport.bus import keys
from aico_secure.transport.bus.allowlist import Allowlist
from aico_secure.transport.bus.broker import Broker, BrokerConfig
from aico_secure.transport.bus.client import curve_socket
from aico_secure.transport.bus.zap import AllowlistAuthenticator, run_to_end

MAX_FRAMES = 10  # a request has six frames plus credentials (two for PLAIN): ten reaches every length check
DOMAIN = BrokerConfig(Path(".")).zap_domain


class ZapHandlerBrokeItsContract(AssertionError):
    """The ZAP handler answered a request other than RFC 27 and the allowlist say it must."""


def decode(data: bytes) -> list[bytes]:
    return _multipart.decode(data, choices=1, max_frames=MAX_FRAMES)[1]


def encode(frames: list[bytes]) -> bytes:
    return _multipart.encode(0, frames, choices=1, max_frames=MAX_FRAMES)


class ZapRequestHarness(Harness):
    name = "zap_request"
    surface = "one ZAP request (version, id, domain, address, identity, mechanism, credentials) at the bus's handler"
    refusals = ()  # the handler answers bad requests with 400; anything raised kills the authenticator thread
    max_len = 2048  # the longest real request is ~400 bytes (a 255-byte routing id and a 32-byte key)
    timeout_s = 5
    rss_limit_mb = 1024
    dictionary = (b"1.0", DOMAIN.encode(), b"CURVE", b"NULL", b"PLAIN", b"GSSAPI", b"127.0.0.1", b"::1",
                  b"200", b"300", b"400", b"500", b"\x00" * 32)

    def setup(self) -> None:
        self._context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        allowlist = Allowlist()
        self._live: dict[bytes, str] = {}  # raw 32-byte key: the User-Id the handler must stamp
        for component in ("writer", "reader"):
            pair = keys.generate()
            self._live[z85.decode(pair.public)] = allowlist.enroll(component, pair.public, [], []).user_id
        allowlist.enroll("rotated", keys.generate().public, [], [])
        allowlist.replace_key("rotated", keys.generate().public)
        allowlist.enroll("gone", keys.generate().public, [], [])
        allowlist.revoke("gone")
        for entry in allowlist.components():
            if not entry.revoked:
                self._live[z85.decode(entry.public_key.encode("ascii"))] = entry.user_id
        self._auth = AllowlistAuthenticator(self._context, allowlist, DOMAIN)
        endpoint = f"inproc://aico-fuzz-zap-{id(self)}"
        self._auth.zap_socket = self._context.socket(zmq.PAIR)
        self._auth.zap_socket.bind(endpoint)
        self._replies = self._context.socket(zmq.PAIR)
        self._replies.connect(endpoint)
        self._log = logging.getLogger(self._auth.log.name)
        self._log_level = self._log.level
        self._log.setLevel(logging.CRITICAL)  # the handler logs every bad request; a campaign makes millions

    def teardown(self) -> None:
        self._log.setLevel(self._log_level)
        self._replies.close(0)
        self._auth.zap_socket.close(0)
        self._context.destroy(linger=0)

    def _expected(self, frames: list[bytes]) -> tuple[bytes, bytes] | None:
        """(status, User-Id) the handler must reply with, or None when there is no request id to reply to."""
        if len(frames) < 2:
            return None
        version, _request_id, domain, *rest = frames + [b""] * 4
        mechanism, credentials = rest[2], frames[6:]
        if (len(frames) == 7 and version == b"1.0" and domain == DOMAIN.encode() and mechanism == b"CURVE"
                and credentials[0] in self._live):
            return b"200", self._live[credentials[0]].encode()
        return b"400", b""

    def run(self, data: bytes) -> None:
        frames = decode(data)
        run_to_end(self._auth.handle_zap_message(list(frames)))
        replies = []
        while True:
            try:
                replies.append(self._replies.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                break
        want = self._expected(frames)
        if want is None:
            if replies:
                raise ZapHandlerBrokeItsContract(f"replied to a request without a request id: {replies}")
            return
        if len(replies) != 1:
            raise ZapHandlerBrokeItsContract(f"{len(replies)} replies to one request")
        reply = replies[0]
        if len(reply) != 6 or reply[0] != b"1.0" or reply[1] != frames[1]:
            raise ZapHandlerBrokeItsContract("reply is not version 1.0 with the request's id in six frames")
        if (reply[2], reply[4]) != want:
            raise ZapHandlerBrokeItsContract(f"status {reply[2]!r} user {reply[4]!r}, expected {want!r} for "
                                             f"{len(frames)} frames, mechanism {frames[5:6]!r}")

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        """The requests libzmq itself writes for a broker: handshakes of an enrolled key, an unknown key and a
        revoked key, with and without a routing id, captured at the handler of a running broker."""
        for label, request in _captured_requests():
            yield label, encode(request)


class _RecordingAuthenticator(AllowlistAuthenticator):
    requests: list[list[bytes]]

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        self.requests.append(list(msg))
        await super().handle_zap_message(msg)


class _RecordingBroker(Broker):
    def _make_authenticator(self) -> AllowlistAuthenticator:
        auth = _RecordingAuthenticator(self._context, self.allowlist, self.config.zap_domain)
        auth.requests = []
        return auth


def _captured_requests() -> list[tuple[str, list[bytes]]]:
    directory = Path(tempfile.mkdtemp(prefix="aico-fuzz-zap-seeds-"))
    out: list[tuple[str, list[bytes]]] = []
    try:
        with _RecordingBroker.start(BrokerConfig(directory / "bus")) as broker:
            requests = broker._auth.requests  # type: ignore[attr-defined]
            _entry, allowed = broker.enroll("writer", publish=["conversation."])
            _entry, revoked = broker.enroll("gone", publish=["conversation."])
            broker.allowlist.revoke("gone")
            context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
            try:
                clients = [("enrolled", allowed, b""), ("enrolled-routing-id", allowed, b"writer-1"),
                           ("unknown-key", keys.generate(), b""), ("revoked-key", revoked, b"x" * 255)]
                for label, pair, routing_id in clients:
                    sock = curve_socket(context, zmq.PUB, pair, broker.server_keys.public)
                    if routing_id:
                        sock.setsockopt(zmq.ROUTING_ID, routing_id)
                    seen = len(requests)
                    sock.connect(broker.publish_endpoint)
                    deadline = time.monotonic() + 5.0
                    while len(requests) == seen and time.monotonic() < deadline:
                        time.sleep(0.01)
                    out += [(label, r) for r in requests[seen:seen + 1]]
                    sock.close(0)
            finally:
                context.destroy(linger=0)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if len(out) != 4:
        raise RuntimeError(f"captured {len(out)} of 4 ZAP requests from a running broker")
    return out


HARNESS = ZapRequestHarness()
