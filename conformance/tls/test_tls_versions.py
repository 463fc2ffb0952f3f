"""TLS 1.3 only, on the device's server and in its client (TLS-001).

Versions below TLS 1.3 are offered by two client stacks (Python's ssl and nassl's own OpenSSL 1.0.2), so a
hardened local OpenSSL that cannot send a TLS 1.0 ClientHello does not turn "not asked" into "refused". A
version no client could offer is "could not probe", which fails the requirement.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aico_secure.probes.tls import (
    DeviceSet,
    ProbeTlsServer,
    SuitePki,
    handshake,
    probe_client_context,
)
from aico_secure.probes.tls_versions import ProbeTarget, Verdict, probe_versions
from aico_secure.target import RejectedCredentials

# Every TLS 1.3 suite is an AEAD over an ephemeral (EC)DHE key exchange: forward secrecy is built in.
TLS13_SUITES = {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
                "TLS_AES_128_CCM_SHA256"}


@pytest.mark.requirement("AICO-TLS-001")
def test_tls_sync_server_speaks_tls13_only(devices: DeviceSet, pki: SuitePki,
                                           evidence: Callable[[str, object], None]) -> None:
    _device, _ident, port = devices.serving("device-b")
    _client, cert, key = pki.issue("probe-client")
    results = probe_versions(ProbeTarget(port, pki.ca_path, cert, key))
    evidence("protocol versions offered to the sync server", {v: str(r) for v, r in results.items()})
    assert results["TLSv1.3"].verdict is Verdict.ACCEPTED, f"the server refused TLS 1.3: {results['TLSv1.3']}"
    older = {v: str(r) for v, r in results.items() if v != "TLSv1.3" and r.verdict is Verdict.ACCEPTED}
    assert not older, f"the sync server accepts protocol versions below TLS 1.3: {older}"
    unprobed = {v: str(r) for v, r in results.items() if r.verdict is Verdict.NOT_PROBED}
    assert not unprobed, f"could not probe these protocol versions, so TLS 1.3-only is not shown: {unprobed}"
    outcome = handshake(port, probe_client_context(pki.ca_path, cert=cert, key=key))
    evidence("negotiated", f"{outcome.version} {outcome.cipher}")
    assert outcome.version == "TLSv1.3" and outcome.cipher in TLS13_SUITES, outcome


@pytest.mark.requirement("AICO-TLS-001")
@pytest.mark.parametrize("operation", ["push", "pull"])
def test_tls_device_client_refuses_tls12_server(devices: DeviceSet, pki: SuitePki, operation: str) -> None:
    device, _ident = devices.open("device-a")
    device.put("note-1", b"a record for a TLS 1.2 peer")
    legacy, cert, key = pki.issue("legacy-peer")
    with ProbeTlsServer(cert, key, version="TLSv1.2") as server:
        with pytest.raises(RejectedCredentials):
            getattr(device, operation)(pki.peer(server.port, legacy))
    assert server.connections >= 1, "the device never contacted the peer: nothing was tested"
    assert server.app_bytes == 0, f"the device sent {server.app_bytes} bytes over TLS 1.2"
