"""TLS probes: the suite's own PKI, clients, servers and a TLS-terminating relay (see ``aico_secure.target.tls``).

The suite never uses a build's TLS code to judge the build. It issues every certificate itself (a fresh CA per
test), so it can make exactly the bad certificate a probe needs (expired, wrong host, trusted but unpinned), and
its servers record how many bytes of application data a build's client sent after the handshake: a client that
refuses a peer must refuse before sending anything.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from aico_secure.probes.bus import RecordingSink
from aico_secure.target.keys import KeySession
from aico_secure.target.tls import SyncDevice, TlsCapability, TlsIdentity, TlsPeer
from aico_secure.transport.tls.certs import DEFAULT_HOSTS, Identity, new_ca, write_identity

SERVER_NAME = "localhost"
VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


class SuitePki:
    """A throw-away CA and the certificates a test needs, written under ``directory``."""

    def __init__(self, directory: Path, name: str = "aico-suite-ca") -> None:
        self.directory = directory
        self.ca = new_ca(name)
        self.ca_path = self.ca.write_cert(directory, "ca")
        self._issued = 0

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem

    def issue(self, name: str, *, hosts: tuple[str, ...] = DEFAULT_HOSTS, expired: bool = False,
              not_yet_valid: bool = False) -> tuple[Identity, Path, Path]:
        """An identity valid for client and server auth, and its files (key mode 0600)."""
        now = dt.datetime.now(dt.UTC)
        not_before = not_after = None
        if expired:
            not_before, not_after = now - dt.timedelta(days=30), now - dt.timedelta(days=1)
        elif not_yet_valid:
            not_before, not_after = now + dt.timedelta(days=1), now + dt.timedelta(days=30)
        identity = self.ca.issue(name, hosts=hosts, not_before=not_before, not_after=not_after, client=True)
        self._issued += 1
        cert, key = write_identity(identity, self.directory, f"{name}-{self._issued}")
        return identity, cert, key

    def peer(self, port: int, pin_of: Identity | None, *, server_name: str = SERVER_NAME) -> TlsPeer:
        """Pairing data telling a build device to expect ``pin_of``'s key at 127.0.0.1:``port``."""
        pins = (pin_of.spki_sha256,) if pin_of is not None else ()
        return TlsPeer("127.0.0.1", port, server_name, self.ca_pem, pins)


def contract_identity(identity: Identity) -> TlsIdentity:
    return TlsIdentity(identity.cert_pem, identity.key_pem)


class DeviceSet:
    """Opens build devices certified by the suite's CA (sharing one user key session); ``close()`` closes all."""

    def __init__(self, tls: TlsCapability, session: KeySession, pki: SuitePki, root: Path) -> None:
        self.tls, self.session, self.pki, self.root = tls, session, pki, root
        self.opened: list[SyncDevice] = []
        self.audit = RecordingSink()

    def open(self, name: str) -> tuple[SyncDevice, Identity]:
        identity, _cert, _key = self.pki.issue(name)
        device = self.tls.open_device(self.root / name, self.session, identity=contract_identity(identity),
                                      peer_ca_pem=self.pki.ca_pem, audit=self.audit)
        self.opened.append(device)
        return device, identity

    def serving(self, name: str, *, handshake_timeout: float = 10.0) -> tuple[SyncDevice, Identity, int]:
        """A device whose sync server is running; returns it, its identity and its port."""
        device, identity = self.open(name)
        _host, port = device.serve(handshake_timeout=handshake_timeout)
        return device, identity, port

    def close(self) -> None:
        for device in self.opened:
            device.close()


def probe_client_context(ca_path: Path, *, cert: Path | None = None, key: Path | None = None,
                         version: str | None = None) -> ssl.SSLContext:
    """A client context the suite controls: trusts ``ca_path``, optionally presents a certificate, and, with
    ``version``, offers exactly that protocol version (old versions allowed at security level 0 so the probe
    can *offer* them; whether the server accepts is what is measured)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(ca_path))
    if cert is not None and key is not None:
        ctx.load_cert_chain(str(cert), str(key))
    if version is not None:
        _pin_version(ctx, version)
    return ctx


def _pin_version(ctx: ssl.SSLContext, version: str) -> None:
    if version != "TLSv1.3":
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # offering TLS 1.0/1.1 is deprecated, and exactly what this probe is for
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = VERSIONS[version]


@dataclass(frozen=True)
class HandshakeOutcome:
    completed: bool
    version: str | None = None
    cipher: str | None = None
    error: str = ""


def handshake(port: int, ctx: ssl.SSLContext, *, server_name: str = SERVER_NAME,
              timeout: float = 3.0) -> HandshakeOutcome:
    """Connect to 127.0.0.1:``port`` and run one handshake; the connection is closed before returning."""
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as exc:
        return HandshakeOutcome(False, error=f"connect: {type(exc).__name__}")
    try:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            cipher = tls.cipher()
            return HandshakeOutcome(True, tls.version(), cipher[0] if cipher else None)
    except (ssl.SSLError, OSError) as exc:
        return HandshakeOutcome(False, error=getattr(exc, "reason", None) or type(exc).__name__)
    finally:
        raw.close()


def client_cert_verdict(port: int, ctx: ssl.SSLContext, *, server_name: str = SERVER_NAME,
                        wait: float = 0.4) -> str:
    """"accepted" or "refused": does the server keep a connection from this client open?

    In TLS 1.3 the server checks the client certificate after the client considers the handshake done, so a
    refusal shows up as an alert or a close on the first read. A server that accepted the client waits for a
    request: the read times out (or returns data). The probe never sends a byte of application data.
    """
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=3.0)
    except OSError:
        return "refused"
    try:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            tls.settimeout(wait)
            try:
                return "accepted" if tls.recv(1) else "refused"
            except TimeoutError:
                return "accepted"
    except (ssl.SSLError, OSError):
        return "refused"
    finally:
        raw.close()


class _LoopbackService:
    """A thread-per-connection TCP service on 127.0.0.1 that stops promptly: the accept loop both probe servers
    share. Subclasses implement ``_handle(conn, n)`` for the ``n``-th accepted connection."""

    _worker_join_s = 5.0

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._run, daemon=True)
        self._accept.start()

    def _handle(self, conn: socket.socket, n: int) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            worker = threading.Thread(target=self._handle, args=(conn, self.connections), daemon=True)
            self._threads.append(worker)
            worker.start()

    def close(self) -> None:
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept thread at once
        except OSError:
            pass
        self._listener.close()
        self._accept.join(2.0)
        for worker in self._threads:
            worker.join(self._worker_join_s)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ProbeTlsServer(_LoopbackService):
    """A TLS server the suite runs in place of a build's peer; it speaks no sync protocol and only records.

    ``connections``: TCP connections accepted; ``handshakes``: TLS handshakes completed; ``app_bytes``:
    application data received after handshakes (a client that refused the peer sends none).
    """

    def __init__(self, cert: Path, key: Path, *, version: str = "TLSv1.3", idle: float = 1.0) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        _pin_version(ctx, version)
        self._ctx, self._idle = ctx, idle
        self._worker_join_s = idle + 4.0
        self.handshakes = self.app_bytes = 0
        super().__init__()

    def _handle(self, conn: socket.socket, n: int) -> None:
        conn.settimeout(3.0)
        try:
            with self._ctx.wrap_socket(conn, server_side=True) as tls:
                self.handshakes += 1
                tls.settimeout(self._idle)
                while not self._stop.is_set():
                    data = tls.recv(65536)
                    if not data:
                        return
                    self.app_bytes += len(data)
        except (ssl.SSLError, OSError):
            return
        finally:
            conn.close()


Tamper = Callable[[bytes, int], bytes]


class TerminatingRelay(_LoopbackService):
    """A man in the middle with the suite's consent: devices pin the relay's key, so it can read the channel.

    It accepts TLS with ``cert``/``key``, opens its own mutual-TLS connection to ``upstream_port`` with
    ``client_ctx``, and forwards plaintext both ways, writing it to ``capture/conn-<n>-up.bin`` and
    ``-down.bin``. ``tamper(chunk, offset)`` may rewrite client-to-server plaintext (``offset`` is where the
    chunk starts in that direction).
    """

    def __init__(self, cert: Path, key: Path, upstream_port: int, client_ctx: ssl.SSLContext, capture: Path,
                 *, tamper: Tamper | None = None) -> None:
        self._server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server_ctx.load_cert_chain(str(cert), str(key))
        self._client_ctx, self._upstream, self._tamper = client_ctx, upstream_port, tamper
        self.capture = capture
        capture.mkdir(parents=True, exist_ok=True)
        self.bytes_up = self.bytes_down = 0
        self._worker_join_s = 11.0
        super().__init__()

    def _handle(self, conn: socket.socket, n: int) -> None:
        conn.settimeout(5.0)
        try:
            with self._server_ctx.wrap_socket(conn, server_side=True) as down, \
                    socket.create_connection(("127.0.0.1", self._upstream), timeout=5.0) as raw_up, \
                    self._client_ctx.wrap_socket(raw_up, server_hostname=SERVER_NAME) as up, \
                    (self.capture / f"conn-{n}-up.bin").open("wb") as up_file, \
                    (self.capture / f"conn-{n}-down.bin").open("wb") as down_file:
                down.settimeout(0.05)
                up.settimeout(0.05)
                offset, deadline = 0, time.monotonic() + 10.0
                while not self._stop.is_set() and time.monotonic() < deadline:
                    chunk = _read(down)
                    if chunk is None:
                        return
                    if chunk:
                        up_file.write(chunk)
                        if self._tamper is not None:
                            chunk = self._tamper(chunk, offset)
                        offset += len(chunk)
                        self.bytes_up += len(chunk)
                        up.sendall(chunk)
                    reply = _read(up)
                    if reply is None:
                        return
                    if reply:
                        down_file.write(reply)
                        self.bytes_down += len(reply)
                        down.sendall(reply)
        except (ssl.SSLError, OSError):
            return
        finally:
            conn.close()


def _read(tls: ssl.SSLSocket) -> bytes | None:
    """b"" when nothing is pending, None when the peer closed."""
    try:
        data = tls.recv(65536)
    except (TimeoutError, ssl.SSLWantReadError):
        return b""
    return data if data else None


def half_open(port: int, count: int, first_bytes: bytes = b"") -> list[socket.socket]:
    """``count`` TCP connections to the port that start a handshake (optionally) and never finish it."""
    held = []
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=3.0)
        if first_bytes:
            conn.sendall(first_bytes)
        held.append(conn)
    return held


def closed_by_server(conn: socket.socket, within: float) -> bool:
    """True if the server closed (or reset) ``conn`` within ``within`` seconds."""
    conn.settimeout(within)
    try:
        while True:
            data = conn.recv(4096)
            if not data:
                return True
    except TimeoutError:
        return False
    except OSError:
        return True


# A truncated TLS ClientHello: record header promising 512 bytes, handshake header, then nothing more.
PARTIAL_CLIENT_HELLO = bytes.fromhex("1603010200") + bytes.fromhex("010001fc0303") + b"\x00" * 16
