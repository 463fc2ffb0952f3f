"""Clients pin the peer's public key; a trusted CA is not enough (TLS-002)."""

from __future__ import annotations

import pytest

from aico_secure.probes.tls import DeviceSet, ProbeTlsServer, SuitePki
from aico_secure.target import RejectedCredentials
from aico_secure.target.tls import TlsPeer


@pytest.mark.requirement("AICO-TLS-002")
@pytest.mark.parametrize("operation", ["push", "pull"])
def test_tls_device_refuses_trusted_but_unpinned_server(devices: DeviceSet, pki: SuitePki, operation: str) -> None:
    device, _ident = devices.open("device-a")
    device.put("diary-1", b"meant for the genuine peer only")
    genuine, _c, _k = pki.issue("genuine-peer")
    _mitm, cert, key = pki.issue("man-in-the-middle")  # same CA, valid for the same host: only the key differs
    with ProbeTlsServer(cert, key) as mitm:
        with pytest.raises(RejectedCredentials):
            getattr(device, operation)(pki.peer(mitm.port, genuine))
    assert mitm.connections >= 1, "the device never contacted the peer: nothing was tested"
    assert mitm.app_bytes == 0, f"the device sent {mitm.app_bytes} bytes to an unpinned server"


@pytest.mark.requirement("AICO-TLS-002")
def test_tls_pinned_peer_syncs_and_missing_pins_are_refused(devices: DeviceSet, pki: SuitePki) -> None:
    a, _ = devices.open("device-a")
    _b, b_ident, port = devices.serving("device-b")
    a.put("k1", b"v1")
    a.put("k2", b"v2")
    assert a.push(pki.peer(port, b_ident)) == 2, "positive control: push to the pinned genuine peer failed"
    unpinned = TlsPeer("127.0.0.1", port, "localhost", pki.ca_pem, ())
    with pytest.raises(RejectedCredentials):
        a.push(unpinned)  # no pins must never mean "any key the CA signed"
    other, _c, _k = pki.issue("someone-else")
    with pytest.raises(RejectedCredentials):
        a.pull(pki.peer(port, other))
