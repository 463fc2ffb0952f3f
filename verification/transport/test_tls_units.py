"""Certificates, TLS 1.3-only contexts and pinning of the reference transport."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from aico_secure.transport.errors import CertificateError, HandshakeError, PinMismatchError, TlsConfigError
from aico_secure.transport.tls import check_pin, client_context, connect_pinned, new_ca, server_context, write_identity
from aico_secure.transport.tls.certs import load_ca, load_identity
from aico_secure.transport.tls.contexts import describe


def test_issued_certificate_names_hosts_and_pin(tmp_path: Path) -> None:
    ca = new_ca("unit-ca")
    ident = ca.issue("device", hosts=("127.0.0.1", "device.local"), client=True)
    cert = x509.load_pem_x509_certificate(ident.cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert san.get_values_for_type(x509.DNSName) == ["device.local"]
    assert len(ident.spki_sha256) == 64
    assert "PRIVATE" not in repr(ident) and "redacted" in repr(ident.key_pem)
    cert_path, key_path = write_identity(ident, tmp_path, "device")
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert load_identity(cert_path, key_path).spki_sha256 == ident.spki_sha256
    assert load_ca(ca.identity).spki_sha256 == ca.spki_sha256


def test_certificate_inputs_are_checked() -> None:
    ca = new_ca("unit-ca")
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(CertificateError):
        ca.issue("x", not_before=now, not_after=now - dt.timedelta(seconds=1))
    with pytest.raises(CertificateError):
        ca.issue("")
    with pytest.raises(CertificateError):
        load_ca(new_ca("other").issue("leaf"))  # a leaf certificate cannot act as a CA


class _Server:
    def __init__(self, ctx: ssl.SSLContext) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, args=(ctx,), daemon=True)
        self.thread.start()

    def _run(self, ctx: ssl.SSLContext) -> None:
        self.listener.settimeout(5)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(2)
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError) as exc:
            self.errors.append(type(exc).__name__)

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[dict[str, Path]]:
    ca = new_ca("unit-ca")
    paths = {"ca": ca.write_cert(tmp_path)}
    server, client = ca.issue("server"), ca.issue("client", client=True)
    paths["server_crt"], paths["server_key"] = write_identity(server, tmp_path, "server")
    paths["client_crt"], paths["client_key"] = write_identity(client, tmp_path, "client")
    (tmp_path / "server.pin").write_text(server.spki_sha256)
    yield paths


def test_tls13_only_contexts_and_pin(pki: dict[str, Path]) -> None:
    sctx = server_context(pki["server_crt"], pki["server_key"], client_ca_path=pki["ca"])
    assert sctx.minimum_version == ssl.TLSVersion.TLSv1_3 == sctx.maximum_version
    cctx = client_context(pki["ca"], cert_path=pki["client_crt"], key_path=pki["client_key"])
    assert describe(cctx)["minimum_version"] == "TLSv1_3"
    pin = pki["server_crt"].with_suffix(".pin").read_text()
    server = _Server(sctx)
    try:
        with connect_pinned("127.0.0.1", server.port, cctx, [pin]) as tls:
            assert tls.version() == "TLSv1.3"
            assert tls.recv(2) == b"ok"
            check_pin(tls, [pin.upper()])
            with pytest.raises(PinMismatchError):
                check_pin(tls, [])
            with pytest.raises(PinMismatchError):
                check_pin(tls, ["00" * 32])
    finally:
        server.close()


def test_tls12_client_is_refused(pki: dict[str, Path]) -> None:
    server = _Server(server_context(pki["server_crt"], pki["server_key"]))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(pki["ca"]))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        with pytest.raises(HandshakeError):
            connect_pinned("127.0.0.1", server.port, ctx, ["00" * 32])
    finally:
        server.close()


def test_pin_mismatch_closes_before_any_data(pki: dict[str, Path]) -> None:
    server = _Server(server_context(pki["server_crt"], pki["server_key"]))
    try:
        with pytest.raises(PinMismatchError):
            connect_pinned("127.0.0.1", server.port, client_context(pki["ca"]), ["ab" * 32])
    finally:
        server.close()


def test_unloadable_files_raise_typed_errors(tmp_path: Path, pki: dict[str, Path]) -> None:
    with pytest.raises(TlsConfigError):
        server_context(tmp_path / "missing.crt", tmp_path / "missing.key")
    with pytest.raises(TlsConfigError):
        client_context(tmp_path / "missing-ca.crt")
    with pytest.raises(TlsConfigError):
        client_context(pki["ca"], cert_path=pki["client_crt"])


def test_ca_certificate_constraints_are_critical() -> None:
    """RFC 5280 4.2.1.9: a CA certificate's basicConstraints MUST be critical, so a relying party that does not
    understand it refuses the certificate instead of treating it as a leaf; path length 0 keeps the CA from
    delegating. OpenSSL accepts a non-critical one, so no handshake would notice the difference."""
    ca = x509.load_pem_x509_certificate(new_ca("aico test CA").cert_pem)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca and constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign
