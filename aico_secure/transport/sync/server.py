"""The sync server: mutual TLS 1.3, one short-lived thread per connection, bounded in number and in time.

Why these bounds: a peer that opens a TCP connection and never finishes the handshake (or sends garbage) must
cost one thread for at most ``handshake_timeout`` seconds and never block other peers; at most
``max_connections`` connections are served at once and the rest are closed on arrival. Every failed handshake
is reported to the audit sink.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

from aico_secure.audit.events import AuditEvent, AuditSink, NullAuditSink
from aico_secure.transport.errors import SyncError
from aico_secure.transport.sync.protocol import read_frame, write_frame

Handler = Callable[[dict[str, Any]], dict[str, Any]]
IO_TIMEOUT = 10.0


class SyncServer:
    """Serve ``handler`` (request frame -> response frame) to authenticated peers on ``host``."""

    def __init__(self, context: ssl.SSLContext, handler: Handler, *, host: str = "127.0.0.1", port: int = 0,
                 handshake_timeout: float = 10.0, max_connections: int = 64, audit: AuditSink | None = None) -> None:
        if handshake_timeout <= 0:
            raise SyncError("handshake_timeout must be positive")
        self._context = context
        self._handler = handler
        self._handshake_timeout = handshake_timeout
        self._slots = threading.BoundedSemaphore(max_connections)
        self._audit = audit or NullAuditSink()
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(0.2)
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._stop = threading.Event()
        self._workers: set[threading.Thread] = set()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.handshake_failures = 0
        self.served = 0
        self._thread = threading.Thread(target=self._accept_loop, name="aico-sync-server", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                conn.close()  # full: refuse rather than queue behind slow peers
                continue
            worker = threading.Thread(target=self._serve, args=(conn, f"{peer[0]}:{peer[1]}"), daemon=True)
            with self._lock:
                self._workers.add(worker)
                self._open.add(conn)
            worker.start()

    def _serve(self, conn: socket.socket, peer: str) -> None:
        try:
            conn.settimeout(self._handshake_timeout)
            try:
                tls = self._context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            except (OSError, ssl.SSLError) as exc:
                self._handshake_failed(peer, exc)
                return
            with self._lock:  # the plain socket was detached into ``tls``; track what close() must wake
                self._open.discard(conn)
                self._open.add(tls)
            with tls:
                try:
                    tls.do_handshake()
                except (OSError, ssl.SSLError) as exc:
                    self._handshake_failed(peer, exc)
                    return
                tls.settimeout(IO_TIMEOUT)
                try:
                    request = read_frame(tls)
                    write_frame(tls, self._handler(request))
                    self.served += 1
                except SyncError as exc:
                    self._safe_reply(tls, str(exc))
        finally:
            conn.close()
            self._slots.release()
            with self._lock:
                self._workers.discard(threading.current_thread())
                self._open = {c for c in self._open if c.fileno() != -1}

    @staticmethod
    def _safe_reply(tls: ssl.SSLSocket, message: str) -> None:
        try:
            write_frame(tls, {"ok": False, "error": message[:200]})
        except SyncError:
            pass

    def _handshake_failed(self, peer: str, exc: BaseException) -> None:
        self.handshake_failures += 1
        reason = exc.reason if isinstance(exc, ssl.SSLError) and exc.reason else type(exc).__name__
        try:
            self._audit.record(AuditEvent(category="auth", action="tls_handshake", actor=peer, result="failure",
                                          subject="sync", details={"reason": str(reason)}))
        except Exception:  # noqa: BLE001, S110 - a failing audit sink must not take the server down
            pass

    def close(self) -> None:
        self._stop.set()
        _wake_and_close(self._listener)
        self._thread.join(2.0)
        with self._lock:
            workers, conns = list(self._workers), list(self._open)
        for conn in conns:  # wake workers blocked in a handshake or a read
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for worker in workers:
            worker.join(IO_TIMEOUT + 1.0)


def _wake_and_close(listener: socket.socket) -> None:
    """Close a listening socket so a thread blocked in ``accept`` returns now, not at its next timeout."""
    try:
        listener.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    listener.close()
