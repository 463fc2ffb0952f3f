"""Serving the gateway: uvicorn on 127.0.0.1, TLS 1.3 only, in a background thread that starts and stops cleanly.

Why a thread: tests and the reference adapter need the gateway in-process (they pass an audit sink and a clock
object), and uvicorn only installs signal handlers on the main thread, so a thread is the supported embedding.
The socket is bound before uvicorn starts, so the port is known (and owned) before ``start`` returns.

TLS: the context is the transport layer's TLS 1.3-only server context (minimum and maximum version 1.3), so a
TLS 1.2 client fails the handshake. uvicorn is *not* given the context: the connection protocol
(``protocol.GuardedH11Protocol``) starts TLS itself, so that the handshake has a timeout and unfinished
handshakes count against the connection caps. uvicorn runs with the h11 parser pinned (``httptools`` ignores
the header size limit), without its own concurrency limit (whose 503 lacks the security headers; the
application's ``InFlightLimit`` answers instead) and without websockets or lifespan.
"""

from __future__ import annotations

import math
import socket
import ssl
import threading
import time

import uvicorn
from starlette.types import ASGIApp

from aico_secure.gateway.config import ConnectionLimits
from aico_secure.gateway.connections import ConnectionTable
from aico_secure.gateway.errors import GatewayStartError
from aico_secure.gateway.protocol import protocol_class

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
LISTEN_BACKLOG = 1024  # sockets the kernel holds until accepted; the connection caps apply from the accept on


class GatewayServer:
    def __init__(self, app: ASGIApp, ssl_context: ssl.SSLContext, *, port: int = 0,
                 limits: ConnectionLimits | None = None) -> None:
        self.check_context(ssl_context)
        self._app = app
        self._ssl = ssl_context
        self.limits = limits or ConnectionLimits()
        self.connections = ConnectionTable(self.limits)
        self._requested_port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self.port = 0

    def __repr__(self) -> str:
        return f"GatewayServer({HOST}:{self.port}, running={self.running})"

    @staticmethod
    def check_context(ssl_context: ssl.SSLContext) -> None:
        if ssl_context.minimum_version != ssl.TLSVersion.TLSv1_3:
            raise GatewayStartError("the gateway serves TLS 1.3 only; the given context allows older versions")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def base_url(self) -> str:
        return f"https://{HOST}:{self.port}"

    def _config(self) -> uvicorn.Config:
        self.connections = ConnectionTable(self.limits)  # a fresh table per run: nothing carried over
        return uvicorn.Config(self._app, http=protocol_class(self.connections, self._ssl), ws="none", loop="asyncio",
                              lifespan="off", log_level="warning", access_log=False, server_header=False,
                              date_header=True, proxy_headers=False, timeout_graceful_shutdown=3,
                              timeout_keep_alive=max(1, math.ceil(self.limits.idle_timeout)),
                              limit_concurrency=None, backlog=LISTEN_BACKLOG,
                              h11_max_incomplete_event_size=self.limits.max_header_bytes)

    def _run(self, sock: socket.socket) -> None:
        assert self._server is not None
        try:
            self._server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported to start()/stop(), never swallowed silently
            self._failure = exc

    def start(self) -> None:
        if self.running:
            raise GatewayStartError("the gateway server is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((HOST, self._requested_port))
            sock.listen(LISTEN_BACKLOG)
        except OSError as exc:
            sock.close()
            raise GatewayStartError(f"cannot listen on {HOST}:{self._requested_port}: {exc.strerror}") from None
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(target=self._run, args=(sock,), name=f"aico-gateway-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise GatewayStartError(f"gateway server did not start: {type(self._failure).__name__}")
            time.sleep(0.01)
        self._socket = sock

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT)
            if self._thread.is_alive():
                raise GatewayStartError("gateway server did not stop in time")
        sock = getattr(self, "_socket", None)
        if sock is not None:
            sock.close()
        self._thread = None
        self._server = None
