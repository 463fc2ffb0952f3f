"""Fixtures for the TLS / device-sync conformance tests: the suite's PKI and build devices it certifies."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from aico_secure.conform.fixtures import capability_fixture
from aico_secure.probes.tls import DeviceSet, SuitePki
from aico_secure.target import KeySession
from aico_secure.target.tls import TlsCapability

tls = capability_fixture("tls", TlsCapability)


@pytest.fixture
def pki(tmp_path: Path) -> SuitePki:
    return SuitePki(tmp_path / "pki")


@pytest.fixture
def devices(tls: TlsCapability, key_session: KeySession, pki: SuitePki, tmp_path: Path) -> Iterator[DeviceSet]:
    made = DeviceSet(tls, key_session, pki, tmp_path / "devices")
    try:
        yield made
    finally:
        made.close()


STRANGER_CA_NAME = "stranger-root-ca"  # lower case ASCII: its DER is already OpenSSL's canonical form (see below)


@dataclass(frozen=True)
class StrangerStore:
    """A CA the suite controls, installed where OpenSSL looks for the platform's default trust store."""

    pki: SuitePki
    cert_file: Path  # for SSL_CERT_FILE: a PEM bundle holding the stranger CA
    cert_dir: Path  # for SSL_CERT_DIR: the stranger CA under its subject-hash name, as c_rehash lays it out


def subject_hash(cert_pem: bytes) -> str:
    """OpenSSL's ``X509_NAME_hash`` of a certificate subject (the name ``c_rehash`` gives a CA in a cert dir):
    SHA-1 of the canonical DER of the name without its outer SEQUENCE, first four bytes little-endian. The
    canonical form lower-cases and re-encodes every value as UTF8String, so it equals the plain DER only for a
    name like the suite's own (one UTF8String attribute, lower case, no spaces), which is asserted."""
    name = x509.load_pem_x509_certificate(cert_pem).subject
    der = name.public_bytes()
    (attribute,) = list(name)
    value = str(attribute.value)
    # SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, UTF8String value } } }, every length one byte
    assert attribute.oid == NameOID.COMMON_NAME and value == value.lower() and " " not in value
    assert der[0] == 0x30 and der[1] < 0x80 and der[11] == 0x0C, "not a short UTF8String common name"
    return f"{int.from_bytes(hashlib.sha1(der[2:]).digest()[:4], 'little'):08x}"


@pytest.fixture
def stranger_store(tmp_path: Path) -> StrangerStore:
    pki = SuitePki(tmp_path / "stranger-pki", STRANGER_CA_NAME)
    bundle = tmp_path / "system-store" / "ca-certificates.crt"
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes(pki.ca_pem)
    cert_dir = tmp_path / "system-store" / "certs"
    cert_dir.mkdir()
    (cert_dir / f"{subject_hash(pki.ca_pem)}.0").write_bytes(pki.ca_pem)
    return StrangerStore(pki, bundle, cert_dir)
