"""Device sync is mutual TLS: no certificate, or one from another CA, gets no service (TLS-004)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.probes.tls import DeviceSet, SuitePki, client_cert_verdict, probe_client_context


@pytest.mark.requirement("AICO-TLS-004")
def test_tls_sync_server_requires_client_certificate(devices: DeviceSet, pki: SuitePki, tmp_path: Path) -> None:
    _b, _ident, port = devices.serving("device-b")
    _ok, cert, key = pki.issue("paired-device")
    assert client_cert_verdict(port, probe_client_context(pki.ca_path, cert=cert, key=key)) == "accepted", \
        "positive control: a paired device's certificate was refused"
    assert client_cert_verdict(port, probe_client_context(pki.ca_path)) == "refused", \
        "the sync server served a client that presented no certificate"
    stranger_ca = SuitePki(tmp_path / "stranger-pki", "someone-elses-ca")
    _s, cert, key = stranger_ca.issue("stranger-device")
    assert client_cert_verdict(port, probe_client_context(pki.ca_path, cert=cert, key=key)) == "refused", \
        "the sync server served a client certificate from a CA it was not paired with"
