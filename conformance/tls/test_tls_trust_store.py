"""The pairing CA is a device's only trust anchor: the platform's default store is never consulted.

Property, both ways: with ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` pointing at a store that holds a stranger CA
(what a corporate proxy, a malicious installer or a compromised package adds to a machine's trust store), a
device refuses a peer whose certificate that stranger CA signed, although the certificate is valid, names the
right host and, on the client side, carries exactly the key the device was told to pin. Pins are given so that
the pin check passes: the trust anchor alone decides (a device with no pins refuses every peer, see
``test_tls_pinning.py``, which would hide the property). Each test has a positive control: the same stranger
certificate is accepted when the stranger CA *is* the anchor the device was given, so the refusal can only
come from the anchor. OpenSSL reads both variables whenever a context loads the default paths
(``load_default_certs``, ``set_default_verify_paths``, ``create_default_context``), so they are set before the
test opens its devices and for the whole test.

Client side: TLS-002 (a server the device does not trust through its pairing data is a man in the middle even
when its key is pinned). Server side: TLS-004 (a client certificate from a CA the device was not paired with is
not a valid client certificate).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.probes.tls import (
    SERVER_NAME,
    DeviceSet,
    ProbeTlsServer,
    SuitePki,
    client_cert_verdict,
    contract_identity,
    probe_client_context,
)
from aico_secure.target import IntegrityViolation, KeySession, RejectedCredentials
from aico_secure.target.tls import SyncDevice, TlsCapability, TlsPeer

from .conftest import StrangerStore


def _install(store: StrangerStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(store.cert_file))
    monkeypatch.setenv("SSL_CERT_DIR", str(store.cert_dir))


def _handshake_then(device: SyncDevice, peer: TlsPeer) -> str:
    """"refused" (RejectedCredentials) or "exchanged" (the probe server speaks no sync protocol, so a device that
    accepted the peer fails later with IntegrityViolation)."""
    try:
        device.push(peer)
    except RejectedCredentials:
        return "refused"
    except IntegrityViolation:
        return "exchanged"
    return "exchanged"


@pytest.mark.requirement("AICO-TLS-002")
def test_tls_client_ignores_default_trust_store(devices: DeviceSet, pki: SuitePki, stranger_store: StrangerStore,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _install(stranger_store, monkeypatch)
    device, _ident = devices.open("device-a")
    device.put("diary-1", b"meant for a peer of the user's own CA only")
    impostor, cert, key = stranger_store.pki.issue("impostor-peer")  # valid, for SERVER_NAME, pinned below
    with ProbeTlsServer(cert, key) as server:
        verdict = _handshake_then(device, TlsPeer("127.0.0.1", server.port, SERVER_NAME, pki.ca_pem,
                                                  (impostor.spki_sha256,)))
    assert server.connections >= 1, "the device never contacted the peer: nothing was tested"
    assert verdict == "refused" and server.app_bytes == 0, \
        f"the device accepted a server certified only by a CA in SSL_CERT_FILE/SSL_CERT_DIR (sent " \
        f"{server.app_bytes} bytes): the system store is a trust anchor"
    with ProbeTlsServer(cert, key) as control:
        verdict = _handshake_then(device, TlsPeer("127.0.0.1", control.port, SERVER_NAME,
                                                  stranger_store.pki.ca_pem, (impostor.spki_sha256,)))
    assert verdict == "exchanged" and control.handshakes >= 1, \
        "positive control: the device refused the same server with its CA as the anchor: nothing was tested"


@pytest.mark.requirement("AICO-TLS-004")
def test_tls_server_ignores_default_trust_store(devices: DeviceSet, pki: SuitePki, stranger_store: StrangerStore,
                                                tls: TlsCapability, key_session: KeySession, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _install(stranger_store, monkeypatch)
    _b, _ident, port = devices.serving("device-b")
    _ok, cert, key = pki.issue("paired-device")
    assert client_cert_verdict(port, probe_client_context(pki.ca_path, cert=cert, key=key)) == "accepted", \
        "positive control: a paired device's certificate was refused"
    _s, s_cert, s_key = stranger_store.pki.issue("stranger-device")
    assert client_cert_verdict(port, probe_client_context(pki.ca_path, cert=s_cert, key=s_key)) == "refused", \
        "the sync server served a client certified only by a CA in SSL_CERT_FILE/SSL_CERT_DIR: the system " \
        "store is a trust anchor"
    identity, _c, _k = pki.issue("device-c")
    other = tls.open_device(tmp_path / "device-c", key_session, identity=contract_identity(identity),
                            peer_ca_pem=stranger_store.pki.ca_pem)
    devices.opened.append(other)  # closed with the others
    _host, other_port = other.serve()
    assert client_cert_verdict(other_port, probe_client_context(pki.ca_path, cert=s_cert, key=s_key)) \
        == "accepted", "positive control: a device paired with the stranger CA refused its client certificate"
