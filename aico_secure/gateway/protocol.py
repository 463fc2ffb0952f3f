"""The gateway's connection protocol: uvicorn's h11 HTTP/1.1 protocol, with TLS, caps and timeouts in front.

Why here and not in uvicorn's settings: uvicorn (as configured before) did TLS itself with asyncio's default
60 s handshake timeout, had no limit on the time to send a request head (its keep-alive timer is cancelled by
the first byte of a request), counted connections only after TLS, answered its own 503s and 400s without the
gateway's headers, and with ``httptools`` (its default parser when installed) had no header size limit at all:
``h11_max_incomplete_event_size`` applies to the h11 parser only. This protocol sees every connection from the
TCP accept on and every byte received:

* **TLS** is started here (``loop.start_tls``) with ``tls_handshake_timeout``, so a socket that never sends a
  ClientHello, or stalls in the handshake, is closed in time and counts against the caps while it is open.
* **Caps**: each accepted socket is admitted by the ``ConnectionTable`` (which may evict an older idle one)
  before anything else happens; a refused one is aborted at once.
* **Request heads** are parsed by h11 (pinned, never httptools), whose incomplete-event limit is set to
  ``max_header_bytes``; a larger head is answered 431. The time from "waiting for a request" to its complete
  head is bounded by ``header_timeout`` however slowly bytes trickle in, and no byte at all for
  ``idle_timeout`` closes the connection (after TLS as well as between requests).
* uvicorn's plain-text error answers are replaced by the API's JSON errors with the security headers.
"""

from __future__ import annotations

import asyncio
import ssl
from http import HTTPStatus
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from aico_secure.gateway.connections import Connection, ConnectionTable
from aico_secure.gateway.middleware import SECURITY_HEADERS, json_error

EARLY_DATA_LIMIT = 1 << 20


class GuardedH11Protocol(H11Protocol):
    """One connection. ``table`` and ``tls`` are set on a per-server subclass (``protocol_class``)."""

    table: ConnectionTable
    tls: ssl.SSLContext

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._entry: Connection | None = None
        self._raw: asyncio.BaseTransport | None = None
        self._tls_up = False
        self._handshake: asyncio.Task[None] | None = None
        self._waiting_since_cycle: object = None  # the request cycle current when waiting began
        self._waiting = False
        self._head_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._wait_started = 0.0
        self._early: list[bytes] = []  # application data the TLS layer delivered before start_tls returned
        self._early_bytes = 0
        self._head_scan = b""
        self._head_end_seen = False

    # ---- accept and TLS -------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Called with the plain TCP transport at accept: admit, then start the TLS handshake."""
        self._raw = transport
        peer = transport.get_extra_info("peername")
        host = peer[0] if isinstance(peer, tuple) and peer else "unknown"
        self._entry = self.table.admit(host, self._abort)
        if self._entry is None:
            transport.abort()  # type: ignore[attr-defined]
            return
        transport.pause_reading()  # type: ignore[attr-defined]  # the ClientHello is for the TLS layer, not us
        self._handshake = self.loop.create_task(self._start_tls(transport))

    async def _start_tls(self, raw: asyncio.BaseTransport) -> None:
        try:
            if raw.is_closing():  # evicted before the handshake began: ``start_tls`` on a closing socket would
                self._closed()    # leave a TLS layer behind, holding its buffers until its handshake timer fires
                return
            try:
                secured = await self.loop.start_tls(raw, self, self.tls, server_side=True,  # type: ignore[arg-type]
                                                    ssl_handshake_timeout=self.table.limits.tls_handshake_timeout,
                                                    ssl_shutdown_timeout=self.table.limits.tls_shutdown_timeout)
            except Exception:  # noqa: BLE001 - any failed handshake (timeout, bad hello, reset) just closes the socket
                self._abort()
                self._closed()
                return
            except asyncio.CancelledError:  # the server is shutting down
                self._abort()
                self._closed()
                raise
            if secured is None or secured.is_closing() or self._entry is None or not self._entry.open:
                self._abort()
                return
            self._tls_up = True
            super().connection_made(secured)
            self._start_waiting()
            early, self._early = b"".join(self._early), []
            if early:
                self.data_received(early)
        finally:
            self._handshake = None  # no cycle through the finished task keeps this connection's objects alive

    def _abort(self) -> None:
        """Close the socket at once (eviction, timeouts): abort the TCP transport under any TLS layer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._raw is not None and not self._raw.is_closing():
            self._raw.abort()  # type: ignore[attr-defined]

    def _closed(self) -> None:
        """The socket is gone: leave the table and drop references, so its objects are freed at once rather
        than at the next garbage collection."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._entry is not None:
            self.table.release(self._entry)
        self._raw, self._early = None, []

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed()
        if self._tls_up:
            super().connection_lost(exc)

    # ---- waiting for a request head -------------------------------------------------------------------------
    def _start_waiting(self) -> None:
        """The connection now waits for a request: idle and head deadlines count from here."""
        self._unset_keepalive_if_required()  # uvicorn's own keep-alive timer: replaced by ours
        if self._entry is not None:
            self.table.mark(self._entry, "waiting")
        self._waiting, self._waiting_since_cycle, self._head_bytes = True, self.cycle, 0
        self._head_scan, self._head_end_seen = b"", False
        self._wait_started = self.loop.time()
        self._set_timer(self.table.limits.idle_timeout)

    def _set_timer(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_at(self._wait_started + delay, self._wait_expired)

    def _wait_expired(self) -> None:
        """No (complete) request head in time: close. A request that started meanwhile is left alone."""
        self._timer = None
        if not self._waiting:
            return
        if self.cycle is self._waiting_since_cycle:
            self._abort()
        else:  # a pipelined request was parsed outside ``data_received``: it is being served
            self._head_done()

    def _head_done(self) -> None:
        self._waiting = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._entry is not None:
            self.table.mark(self._entry, "busy")

    def data_received(self, data: bytes) -> None:
        if not self._tls_up:
            # The TLS layer hands over data that arrived with the end of the handshake before ``start_tls``
            # returns: keep it (bounded) for when the connection is set up.
            self._early.append(data)
            self._early_bytes += len(data)
            if self._early_bytes > EARLY_DATA_LIMIT:
                self._abort()
            return
        if self._waiting:
            if self._head_bytes == 0:
                self._set_timer(self.table.limits.header_timeout)  # the first byte: from idle to head deadline
            self._head_bytes += len(data)
            if self._head_too_big(data):
                self._refuse(431, "request_header_fields_too_large",
                             f"request head exceeds {self.table.limits.max_header_bytes} bytes")
                return
        super().data_received(data)
        if self._waiting and self.cycle is not self._waiting_since_cycle:
            self._head_done()

    def _head_too_big(self, data: bytes) -> bool:
        """Whether the request head being received is over the limit. h11's own limit only applies while the
        head is incomplete in its buffer (a complete oversize head arriving at once passes), so the end of the
        head is looked for here, in at most ``max_header_bytes`` + 4 bytes kept per request."""
        if self._head_end_seen:
            return False
        limit = self.table.limits.max_header_bytes
        self._head_scan = (self._head_scan + data)[: limit + 4]
        end = self._head_scan.find(b"\r\n\r\n")
        if end >= 0:
            self._head_end_seen, self._head_scan = True, b""
            return end + 4 > limit
        return len(self._head_scan) > limit

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._start_waiting()

    # ---- uvicorn's own error answers, replaced -------------------------------------------------------------
    def send_400_response(self, msg: str) -> None:
        """uvicorn calls this for a request h11 cannot parse (including a head h11 finds too long)."""
        if self._head_bytes > self.table.limits.max_header_bytes:
            self._refuse(431, "request_header_fields_too_large",
                         f"request head exceeds {self.table.limits.max_header_bytes} bytes")
        else:
            self._refuse(400, "invalid_request", "malformed HTTP request")

    def _refuse(self, status: int, code: str, detail: str) -> None:
        """Answer a request the HTTP layer refuses before any application code runs, the way the application
        would (JSON error, security headers), then close. Written directly: h11's state machine has no
        response slot for a request it never parsed."""
        self._waiting = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        headers, body = json_error(status, code, detail)
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode()]
        lines += [name + b": " + value for name, value in (*headers, (b"connection", b"close"), *SECURITY_HEADERS)]
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        self.transport.close()


def protocol_class(table: ConnectionTable, tls: ssl.SSLContext) -> type[GuardedH11Protocol]:
    """The protocol class of one server: uvicorn instantiates it per connection with its own arguments."""
    return type("BoundGuardedH11Protocol", (GuardedH11Protocol,), {"table": table, "tls": tls})
