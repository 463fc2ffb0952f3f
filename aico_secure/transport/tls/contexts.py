"""TLS 1.3-only contexts for device links, and SPKI SHA-256 pinning checked right after the handshake.

Why 1.3 only: every 1.3 key exchange is ephemeral (EC)DHE, so forward secrecy is a property of the protocol,
not of a cipher list someone can get wrong; RSA key transport, CBC suites, renegotiation and compression are gone.
Both ends set minimum and maximum version to 1.3, so a 1.2 handshake fails on either side.

Offered (OpenSSL 3 defaults; Python 3.11's ``ssl`` cannot narrow 1.3 suites or groups, and none of the defaults
is weak): suites TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256; key-exchange
groups x25519, secp256r1, x448, secp521r1, secp384r1 and the ffdhe groups. ``describe`` reports what a context
offers so the conformance suite can record it.

Why pinning is a separate call: Python's ``ssl`` has no verification callback, so the client checks the peer's
SubjectPublicKeyInfo digest against its pins after ``do_handshake`` and closes the connection before sending a
byte of application data if it does not match. ``connect_pinned`` does all of that in one step.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
from collections.abc import Collection
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from aico_secure.transport.errors import HandshakeError, PinMismatchError, TlsConfigError

DEFAULT_TIMEOUT = 5.0


def _tls13_only(ctx: ssl.SSLContext) -> ssl.SSLContext:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.options |= ssl.OP_NO_COMPRESSION
    return ctx


def _load_chain(ctx: ssl.SSLContext, cert_path: Path, key_path: Path) -> None:
    try:
        ctx.load_cert_chain(str(cert_path), str(key_path))
    except (OSError, ssl.SSLError) as exc:
        name = Path(cert_path).name
        raise TlsConfigError(f"cannot load certificate {name} with its key: {type(exc).__name__}") from None


def _load_trust(ctx: ssl.SSLContext, ca_path: Path) -> None:
    try:
        ctx.load_verify_locations(cafile=str(ca_path))
    except (OSError, ssl.SSLError) as exc:
        raise TlsConfigError(f"cannot load CA file {Path(ca_path).name}: {type(exc).__name__}") from None


def server_context(cert_path: Path, key_path: Path, *, client_ca_path: Path | None = None) -> ssl.SSLContext:
    """A TLS 1.3-only server context. With ``client_ca_path`` a client certificate signed by that CA is required
    (mutual TLS): a client that presents none fails the handshake."""
    ctx = _tls13_only(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    _load_chain(ctx, cert_path, key_path)
    if client_ca_path is not None:
        _load_trust(ctx, client_ca_path)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def client_context(ca_path: Path, *, cert_path: Path | None = None, key_path: Path | None = None) -> ssl.SSLContext:
    """A TLS 1.3-only client context that trusts only ``ca_path`` (never the system store) and checks the
    host name. ``cert_path``/``key_path`` add a client certificate for mutual TLS."""
    ctx = _tls13_only(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    _load_trust(ctx, ca_path)
    return _client_finish(ctx, cert_path, key_path)


def client_context_pem(ca_pem: bytes, *, cert_path: Path | None = None,
                       key_path: Path | None = None) -> ssl.SSLContext:
    """``client_context`` with the trust anchor given as PEM bytes (e.g. a peer's CA from pairing data)."""
    ctx = _tls13_only(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    try:
        ctx.load_verify_locations(cadata=ca_pem.decode("ascii"))
    except (ValueError, UnicodeDecodeError, ssl.SSLError) as exc:
        raise TlsConfigError(f"peer CA is not a PEM certificate: {type(exc).__name__}") from None
    return _client_finish(ctx, cert_path, key_path)


def _client_finish(ctx: ssl.SSLContext, cert_path: Path | None, key_path: Path | None) -> ssl.SSLContext:
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if (cert_path is None) != (key_path is None):
        raise TlsConfigError("a client certificate needs both cert_path and key_path")
    if cert_path is not None and key_path is not None:
        _load_chain(ctx, cert_path, key_path)
    return ctx


def peer_spki_sha256(conn: ssl.SSLSocket | ssl.SSLObject) -> str | None:
    """Hex SHA-256 of the peer certificate's SubjectPublicKeyInfo, or None when the peer sent no certificate."""
    der = conn.getpeercert(binary_form=True)
    if not der:
        return None
    spki = x509.load_der_x509_certificate(der).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


def check_pin(conn: ssl.SSLSocket | ssl.SSLObject, pins: Collection[str]) -> None:
    """Raise ``PinMismatchError`` unless the peer's SPKI SHA-256 is one of ``pins``. No pins is a mismatch:
    an empty pin set must never mean "accept anything"."""
    wanted = {p.strip().lower() for p in pins if p and p.strip()}
    if not wanted:
        raise PinMismatchError("no pins configured: refusing to accept an unpinned peer")
    seen = peer_spki_sha256(conn)
    if seen is None:
        raise PinMismatchError("peer presented no certificate")
    if seen not in wanted:
        raise PinMismatchError(f"peer key {seen[:16]}... is not pinned")


def connect_pinned(
    host: str,
    port: int,
    ctx: ssl.SSLContext,
    pins: Collection[str],
    *,
    server_hostname: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ssl.SSLSocket:
    """Connect, complete the TLS handshake and check the pin, all before any application byte is sent.

    Raises ``HandshakeError`` (connection or handshake failed, including wrong version, bad chain, wrong host,
    expired certificate) or ``PinMismatchError``; the socket is closed in both cases.
    """
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise HandshakeError(f"cannot connect to {host}:{port}: {exc.strerror or type(exc).__name__}") from None
    try:
        tls = ctx.wrap_socket(raw, server_hostname=server_hostname or host)
    except (ssl.SSLError, OSError) as exc:
        raw.close()
        raise HandshakeError(f"TLS handshake with {host}:{port} failed: {_reason(exc)}") from None
    try:
        check_pin(tls, pins)
    except PinMismatchError:
        tls.close()
        raise
    return tls


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verification failed ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return exc.reason or type(exc).__name__
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    return type(exc).__name__


def describe(ctx: ssl.SSLContext) -> dict[str, object]:
    """What a context offers: protocol bounds and the 1.3 suites (for reports; holds no secrets)."""
    suites = sorted({c["name"] for c in ctx.get_ciphers() if c.get("protocol") == "TLSv1.3"})
    return {
        "minimum_version": ctx.minimum_version.name,
        "maximum_version": ctx.maximum_version.name,
        "tls13_suites": suites,
        "verify_mode": ctx.verify_mode.name,
    }
