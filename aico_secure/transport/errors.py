"""Typed exceptions of the transport layer.

Callers act on the class, never on the message; messages name endpoints and public fingerprints only, never
a secret key, password or record content.
"""

from __future__ import annotations

from aico_secure.errors import AicoSecureError


class TransportError(AicoSecureError):
    """Root of the transport layer's deliberate failures."""


class CertificateError(TransportError):
    """A certificate or key could not be made, loaded or written (bad PEM, bad validity window, bad host)."""


class TlsConfigError(TransportError):
    """A TLS context could not be built from the given files (missing, unreadable or mismatched)."""


class PinMismatchError(TransportError):
    """The peer's public key is not one of the pinned SPKI SHA-256 fingerprints (or no pins were given)."""


class HandshakeError(TransportError):
    """A TLS handshake failed or timed out: bad chain, wrong host, wrong protocol version, no client cert."""


class BusError(TransportError):
    """The message bus could not start, or a request to it was malformed."""


class BusConfigError(BusError):
    """Invalid bus configuration: a non-loopback bind without explicit consent, a bad topic rule, a bad key."""


class UnknownComponentError(BusError):
    """A component name that the broker has never enrolled."""


class SyncError(TransportError):
    """A device-sync exchange was malformed, too large, or refused by the peer."""
