"""The gateway's TLS identity: a private CA and a server certificate for 127.0.0.1, sealed in its directory.

Why persisted: clients pin the server's SPKI, so the key must survive restarts. Why sealed: the private keys
are secrets like any other and live at rest only inside the gateway's AEAD envelope. The server key touches no
file in plaintext where the OS allows it (a memfd); elsewhere a private temporary file exists for the instant
OpenSSL reads it. A certificate within a week of expiry is re-issued from the stored CA (same CA, new pin).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from aico_secure.gateway.sealed import SealedJson
from aico_secure.keys import UnlockedKeyring
from aico_secure.sensitive import SecretBytes
from aico_secure.transport.tls.certs import Identity, load_ca, new_ca, spki_sha256
from aico_secure.transport.tls.contexts import server_context

TLS_FILE = "tls.sealed"
HOSTS = ("127.0.0.1", "localhost")
RENEW_BEFORE = dt.timedelta(days=7)


@dataclass(frozen=True)
class GatewayTls:
    ca: Identity
    server: Identity

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem


def _to_doc(tls: GatewayTls) -> dict[str, str]:
    return {"ca_cert": tls.ca.cert_pem.decode(), "ca_key": tls.ca.key_pem.reveal().decode(),
            "cert": tls.server.cert_pem.decode(), "key": tls.server.key_pem.reveal().decode()}


def _identity(cert: str, key: str) -> Identity:
    return Identity(cert.encode(), SecretBytes(key.encode()), spki_sha256(cert.encode()))


def load_or_create(keyring: UnlockedKeyring, directory: Path) -> GatewayTls:
    sealed = SealedJson(keyring, directory / TLS_FILE, "tls")
    if sealed.exists():
        doc = sealed.load()
        tls = GatewayTls(_identity(doc["ca_cert"], doc["ca_key"]), _identity(doc["cert"], doc["key"]))
        expires = x509.load_pem_x509_certificate(tls.server.cert_pem).not_valid_after_utc
        if expires - dt.datetime.now(dt.UTC) > RENEW_BEFORE:
            return tls
        ca = load_ca(tls.ca)
    else:
        ca = new_ca("aico-gateway local CA")
    tls = GatewayTls(ca.identity, ca.issue("127.0.0.1", hosts=HOSTS))
    sealed.save(_to_doc(tls))
    return tls


@contextlib.contextmanager
def _transient_files(cert_pem: bytes, key_pem: SecretBytes) -> Iterator[tuple[Path, Path]]:
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        fds = [os.memfd_create("gateway-cert"), os.memfd_create("gateway-key")]
        try:
            for fd, data in zip(fds, (cert_pem, key_pem.reveal()), strict=True):
                os.write(fd, data)
            yield Path(f"/proc/self/fd/{fds[0]}"), Path(f"/proc/self/fd/{fds[1]}")
        finally:
            for fd in fds:
                os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="aico-gw-") as tmp:
        cert_path, key_path = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_path.write_bytes(cert_pem)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_pem.reveal())
        yield cert_path, key_path


def ssl_context(tls: GatewayTls) -> ssl.SSLContext:
    """The transport layer's TLS 1.3-only server context for this identity."""
    with _transient_files(tls.server.cert_pem, tls.server.key_pem) as (cert_path, key_path):
        return server_context(cert_path, key_path)
