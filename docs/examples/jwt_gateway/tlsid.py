"""The gateway's certificate: a private CA and a server certificate for 127.0.0.1, sealed in its directory.

Why kept: clients pin the server key, so it must survive restarts. The certificates come from the suite
project's certificate helpers (``aico_secure.transport.tls.certs``) and the SSL context from the reference's
``tls_identity.ssl_context`` (TLS 1.3 only), like the server itself: transport is borrowed, not rewritten. A
server certificate within a week of expiry is re-issued from the same CA.
"""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

from cryptography import x509

from aico_secure.gateway.tls_identity import GatewayTls, ssl_context
from aico_secure.sensitive import SecretBytes
from aico_secure.target import IntegrityViolation
from aico_secure.target.keys import KeySession
from aico_secure.transport.tls.certs import Identity, load_ca, new_ca, spki_sha256

from .sealed import SealedFile

HOSTS = ("127.0.0.1", "localhost")
RENEW_BEFORE = dt.timedelta(days=7)


def _identity(cert: str, key: str) -> Identity:
    return Identity(cert.encode(), SecretBytes(key.encode()), spki_sha256(cert.encode()))


def load_or_create(session: KeySession, directory: Path) -> GatewayTls:
    file = SealedFile(session, directory / "tls.json.sealed")
    if file.exists():
        doc = file.load()
        try:
            tls = GatewayTls(_identity(doc["ca_cert"], doc["ca_key"]), _identity(doc["cert"], doc["key"]))
        except (KeyError, TypeError, ValueError):
            raise IntegrityViolation("the gateway's certificate file is not what it wrote") from None
        expires = x509.load_pem_x509_certificate(tls.server.cert_pem).not_valid_after_utc
        if expires - dt.datetime.now(dt.UTC) > RENEW_BEFORE:
            return tls
        ca = load_ca(tls.ca)
    else:
        ca = new_ca("jwt-gateway local CA")
    tls = GatewayTls(ca.identity, ca.issue("127.0.0.1", hosts=HOSTS))
    file.save({"ca_cert": tls.ca.cert_pem.decode(), "ca_key": tls.ca.key_pem.reveal().decode(),
               "cert": tls.server.cert_pem.decode(), "key": tls.server.key_pem.reveal().decode()})
    return tls


def context(tls: GatewayTls) -> ssl.SSLContext:
    return ssl_context(tls)
