"""Certificates for TLS 1.3 device links, made with ``cryptography``'s x509 builder.

Why a tiny CA of our own: devices of one user trust each other through a private CA, never the system trust
store, and every client additionally pins the SPKI SHA-256 of the peer it expects (``contexts.check_pin``), so a
certificate that the CA signed for someone else is still refused. Keys are ECDSA P-256: universally supported by
OpenSSL's TLS 1.3 and cheap to generate in tests. Private keys leave this module only as ``SecretBytes`` and are
written with mode 0600.

Pins are lowercase hex SHA-256 digests of the DER SubjectPublicKeyInfo (64 characters).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from aico_secure.keys.atomic import atomic_write
from aico_secure.sensitive import SecretBytes
from aico_secure.transport.errors import CertificateError

DEFAULT_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost")
DEFAULT_VALIDITY = dt.timedelta(days=30)
CA_VALIDITY = dt.timedelta(days=365)
_CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Identity:
    """A certificate and its private key. ``key_pem`` is PKCS#8 PEM, unencrypted, wrapped so it never prints."""

    cert_pem: bytes = field(repr=False)
    key_pem: SecretBytes
    spki_sha256: str


def spki_sha256(cert: x509.Certificate | bytes) -> str:
    """The pin of a certificate (object, PEM or DER): hex SHA-256 of its DER SubjectPublicKeyInfo."""
    if isinstance(cert, bytes):
        cert = _load_cert(cert)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def _load_cert(data: bytes) -> x509.Certificate:
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise CertificateError("not a valid X.509 certificate (PEM or DER)") from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _san(hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        if not host or not isinstance(host, str):
            raise CertificateError("certificate host names must be non-empty strings")
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _private_pem(key: ec.EllipticCurvePrivateKey) -> SecretBytes:
    return SecretBytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


class CertificateAuthority:
    """A private CA that signs device and service certificates. Holds its key in memory only."""

    __slots__ = ("_cert", "_key")

    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        self._cert = cert
        self._key = key

    def __repr__(self) -> str:
        return f"CertificateAuthority(subject={self._cert.subject.rfc4514_string()!r}, key=<redacted>)"

    @property
    def cert_pem(self) -> bytes:
        return self._cert.public_bytes(serialization.Encoding.PEM)

    @property
    def spki_sha256(self) -> str:
        return spki_sha256(self._cert)

    @property
    def identity(self) -> Identity:
        """The CA's own certificate and key, e.g. to persist it with ``write_identity``."""
        return Identity(self.cert_pem, _private_pem(self._key), self.spki_sha256)

    def write_cert(self, directory: Path, name: str = "ca") -> Path:
        """Write only the CA certificate (public) as ``<name>.crt``; this is what peers load as trust anchor."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / f"{name}.crt"
        atomic_write(path, self.cert_pem, mode=0o644)
        return path

    def issue(
        self,
        common_name: str,
        *,
        hosts: Sequence[str] = DEFAULT_HOSTS,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        client: bool = False,
    ) -> Identity:
        """A new key pair and a certificate for it, valid for ``hosts`` (IP addresses or DNS names).

        Every certificate may authenticate a TLS server; ``client=True`` additionally allows it as a TLS client
        certificate (mutual TLS), which device-sync peers need. The validity window is not checked against the
        clock so tests can issue expired or not-yet-valid certificates on purpose.
        """
        if not common_name:
            raise CertificateError("common_name must be non-empty")
        start = not_before or (_now() - _CLOCK_SKEW)
        end = not_after or (start + DEFAULT_VALIDITY)
        if end <= start:
            raise CertificateError("not_after must be later than not_before")
        key = ec.generate_private_key(ec.SECP256R1())
        usages = [ExtendedKeyUsageOID.SERVER_AUTH] + ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(_san(hosts), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
            )
        )
        cert = builder.sign(self._key, hashes.SHA256())
        return Identity(cert.public_bytes(serialization.Encoding.PEM), _private_pem(key), spki_sha256(cert))


def new_ca(name: str) -> CertificateAuthority:
    """A fresh self-signed CA (P-256, one year) allowed to sign leaf certificates only (path length 0)."""
    if not name:
        raise CertificateError("CA name must be non-empty")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = _now() - _CLOCK_SKEW
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(cert, key)


def load_ca(identity: Identity) -> CertificateAuthority:
    """Rebuild a CA from its persisted identity (see ``CertificateAuthority.identity``)."""
    cert = _load_cert(identity.cert_pem)
    try:
        key = serialization.load_pem_private_key(identity.key_pem.reveal(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CertificateError("CA key is not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError("CA key must be an EC private key")
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise CertificateError("that certificate is not a CA certificate")
    if spki_sha256(cert) != hashlib.sha256(
        key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).hexdigest():
        raise CertificateError("CA key does not match its certificate")
    return CertificateAuthority(cert, key)


def write_identity(identity: Identity, directory: Path, name: str) -> tuple[Path, Path]:
    """Write ``<name>.crt`` (0644) and ``<name>.key`` (0600) atomically; returns (cert_path, key_path)."""
    if not name or "/" in name or name.startswith("."):
        raise CertificateError("identity name must be a plain file stem")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    atomic_write(key_path, identity.key_pem.reveal(), mode=0o600)
    atomic_write(cert_path, identity.cert_pem, mode=0o644)
    return cert_path, key_path


def load_identity(cert_path: Path, key_path: Path) -> Identity:
    """Read an identity written by ``write_identity`` (or any PEM cert + unencrypted PKCS#8/SEC1 key)."""
    try:
        cert_pem, key_pem = cert_path.read_bytes(), key_path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read identity files {cert_path.name}/{key_path.name}: {exc.strerror}") from None
    return Identity(cert_pem, SecretBytes(key_pem), spki_sha256(cert_pem))
