"""TLS 1.3 for device-to-device links: certificates (``certs``), contexts and SPKI pinning (``contexts``)."""

from aico_secure.transport.errors import HandshakeError, PinMismatchError, TlsConfigError
from aico_secure.transport.tls.certs import CertificateAuthority, Identity, new_ca, spki_sha256, write_identity
from aico_secure.transport.tls.contexts import (
    check_pin,
    client_context,
    client_context_pem,
    connect_pinned,
    describe,
    server_context,
)

__all__ = [
    "CertificateAuthority", "HandshakeError", "Identity", "PinMismatchError", "TlsConfigError", "check_pin",
    "client_context", "client_context_pem", "connect_pinned", "describe", "new_ca", "server_context", "spki_sha256",
    "write_identity",
]
