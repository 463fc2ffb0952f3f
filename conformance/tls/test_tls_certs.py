"""Expired, not-yet-valid and wrong-host certificates are refused, both ways (TLS-003)."""

from __future__ import annotations

import pytest

from aico_secure.probes.tls import DeviceSet, ProbeTlsServer, SuitePki, client_cert_verdict, probe_client_context
from aico_secure.target import RejectedCredentials

BAD_SERVER_CERTS = {
    "expired": {"expired": True},
    "not-yet-valid": {"not_yet_valid": True},
    "wrong-host": {"hosts": ("sync.other-user.invalid",)},
}


@pytest.mark.requirement("AICO-TLS-003")
@pytest.mark.parametrize("flaw", sorted(BAD_SERVER_CERTS))
def test_tls_device_refuses_bad_server_certificate(devices: DeviceSet, pki: SuitePki, flaw: str) -> None:
    device, _ident = devices.open("device-a")
    device.put("r", b"must not reach a peer with a bad certificate")
    bad, cert, key = pki.issue(f"peer-{flaw}", **BAD_SERVER_CERTS[flaw])  # type: ignore[arg-type]
    with ProbeTlsServer(cert, key) as server:
        with pytest.raises(RejectedCredentials):
            device.push(pki.peer(server.port, bad))  # pinned to that very key: only the flaw can refuse it
    assert server.connections >= 1, "the device never contacted the peer: nothing was tested"
    assert server.app_bytes == 0, f"the device sent {server.app_bytes} bytes to a peer with a {flaw} certificate"


@pytest.mark.requirement("AICO-TLS-003")
def test_tls_server_refuses_expired_client_certificate(devices: DeviceSet, pki: SuitePki) -> None:
    _b, _ident, port = devices.serving("device-b")
    _ok, cert, key = pki.issue("valid-client")
    assert client_cert_verdict(port, probe_client_context(pki.ca_path, cert=cert, key=key)) == "accepted", \
        "positive control: a valid client certificate was refused"
    _old, cert, key = pki.issue("expired-client", expired=True)
    assert client_cert_verdict(port, probe_client_context(pki.ca_path, cert=cert, key=key)) == "refused", \
        "the sync server accepted an expired client certificate"
