"""The first bytes a peer sends the device-sync listener, before any TLS handshake has succeeded.

This is the only part of the sync link that an unauthenticated stranger reaches: ``SyncServer._serve`` wraps the
accepted connection in the mutual-TLS 1.3 server context and handshakes. Whatever the bytes, the worker must end
by counting and auditing one failed handshake, and raise nothing (nothing above a worker thread would catch
it, so the audit event would be lost). A fuzzer cannot complete a handshake that needs a client certificate
from the peer's CA, so every input is a failed handshake; the frames after the handshake are ``sync_frame``'s.

Each input is written to one end of a socketpair whose write side is then shut, and the other end goes through
the listener's own per-connection code, on this thread, with the reference device's real server context.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.audit.events import AuditEvent
from aico_secure.fuzz.interface import Harness
from aico_secure.transport.sync.server import SyncServer
from aico_secure.transport.tls.certs import new_ca, write_identity
from aico_secure.transport.tls.contexts import client_context_pem, server_context


class ListenerBrokeItsContract(AssertionError):
    """A connection ended other than as exactly one counted, audited failed handshake."""


class _CountingSink:
    def __init__(self) -> None:
        self.events = 0

    def record(self, event: AuditEvent) -> None:
        self.events += 1


class SyncListenerHarness(Harness):
    name = "sync_listener"
    surface = "the first bytes a peer sends the sync listener: SyncServer's mutual-TLS 1.3 handshake"
    refusals = ()  # the listener counts and audits a failed handshake itself; nothing may escape a worker
    max_len = 16 * 1024 + 5  # one TLS record: a ClientHello never needs more
    timeout_s = 5
    rss_limit_mb = 1024
    dictionary = (b"\x16\x03\x01", b"\x16\x03\x03", b"\x15\x03\x03", b"\x17\x03\x03", b"\x14\x03\x03\x00\x01\x01",
                  b"\x01\x00", b"\x00\x2b", b"\x03\x04", b"\x00\x33", b"\x00\x1d", b"\x00\x0d", b"\x00\x00",
                  b"\x00\x10", b"\x13\x01", b"\x13\x02", b"\x13\x03", b"\x00\x2d", b"\x00\x29", b"localhost",
                  b"GET / HTTP/1.1\r\n")

    def setup(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="aico-fuzz-sync-"))
        ca = new_ca("aico-fuzz-sync-ca")
        self._ca_pem = ca.cert_pem
        (self._dir / "ca.crt").write_bytes(ca.cert_pem)
        self._server_files = write_identity(ca.issue("server", client=True), self._dir, "server")
        self._client_files = write_identity(ca.issue("client", client=True), self._dir, "client")
        context = server_context(*self._server_files, client_ca_path=self._dir / "ca.crt")
        self._sink = _CountingSink()
        self._server = SyncServer(context, lambda request: {"ok": True}, handshake_timeout=self.timeout_s / 2,
                                  audit=self._sink)

    def teardown(self) -> None:
        self._server.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def run(self, data: bytes) -> None:
        ours, theirs = socket.socketpair()
        try:
            ours.sendall(data)
            ours.shutdown(socket.SHUT_WR)
            failures, events, served = self._server.handshake_failures, self._sink.events, self._server.served
            self._server._slots.acquire()  # what the accept loop does before handing a connection to a worker
            self._server._serve(theirs, "fuzz")
            after = (self._server.handshake_failures, self._sink.events, self._server.served)
            if after != (failures + 1, events + 1, served):
                raise ListenerBrokeItsContract(f"(failures, audit events, served) went "
                                               f"{(failures, events, served)} -> {after}")
        finally:
            ours.close()
            theirs.close()

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        """What a sync client writes first: the reference client's ClientHello (with and without a client
        certificate, for the right and for another server name), and what the listener meets by mistake."""
        with_cert = client_context_pem(self._ca_pem, cert_path=self._client_files[0], key_path=self._client_files[1])
        without_cert = client_context_pem(self._ca_pem)
        for label, context, host in (("client-hello", with_cert, "localhost"), ("client-hello-ip", with_cert,
                                     "127.0.0.1"), ("client-hello-no-cert", without_cert, "localhost")):
            yield label, _first_flight(context, host)
        tls12 = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        tls12.load_verify_locations(cadata=self._ca_pem.decode("ascii"))
        yield "client-hello-tls12", _first_flight(tls12, "localhost")
        yield "plain-http", b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"


def _first_flight(context: ssl.SSLContext, host: str) -> bytes:
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = context.wrap_bio(incoming, outgoing, server_hostname=host)
    try:
        client.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


HARNESS = SyncListenerHarness()
