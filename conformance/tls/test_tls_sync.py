"""What crosses a sync link is sealed at the application layer too (TLS-005).

The suite's relay terminates TLS (the devices are paired with the relay's key: the suite's consent to look
inside) and records the plaintext of the channel.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.conform.checks import find_leaks
from aico_secure.probes.tls import DeviceSet, SuitePki, TerminatingRelay, probe_client_context
from aico_secure.target import IntegrityViolation


def _relay(pki: SuitePki, upstream_port: int, capture: Path,
           tamper: Callable[[bytes, int], bytes] | None = None) -> tuple[TerminatingRelay, object]:
    relay_ident, cert, key = pki.issue("consenting-relay")
    _client, ccert, ckey = pki.issue("relay-upstream-client")
    ctx = probe_client_context(pki.ca_path, cert=ccert, key=ckey)
    return TerminatingRelay(cert, key, upstream_port, ctx, capture, tamper=tamper), relay_ident


@pytest.mark.requirement("AICO-TLS-005")
def test_tls_sync_link_carries_only_sealed_records(devices: DeviceSet, pki: SuitePki, tmp_path: Path,
                                                   evidence: Callable[[str, object], None]) -> None:
    token = secrets.token_hex(8)
    records = {f"memory-{i}": f"CANARY-sync-{token}-{i} the user told me a secret".encode() for i in range(3)}
    a, _ = devices.open("device-a")
    _b, _b_ident, b_port = devices.serving("device-b")
    c, _ = devices.open("device-c")
    for key, value in records.items():
        a.put(key, value)
    capture = tmp_path / "capture"
    relay, relay_ident = _relay(pki, b_port, capture)
    with relay:
        peer = pki.peer(relay.port, relay_ident)  # type: ignore[arg-type]
        assert a.push(peer) == len(records)
        assert c.pull(peer) == len(records)
    for key, value in records.items():
        assert c.get(key) == value, "positive control: the record did not arrive intact through the relay"
    assert relay.bytes_up > 0 and relay.bytes_down > sum(map(len, records.values())), "the relay saw no records"
    evidence("plaintext channel bytes inspected", relay.bytes_up + relay.bytes_down)
    result = find_leaks(capture, canaries=[v.decode() for v in records.values()] + [f"CANARY-sync-{token}"])
    assert result.files_read > 0
    assert not result.findings, "record contents readable inside the TLS channel: " + "; ".join(
        f"{f.path}@{f.offset} ({f.encoding})" for f in result.findings[:5])


@pytest.mark.requirement("AICO-TLS-005")
@pytest.mark.parametrize("where", [0.35, 0.6, 0.85])
def test_tls_sync_tampered_record_is_never_stored(devices: DeviceSet, pki: SuitePki, tmp_path: Path,
                                                  where: float) -> None:
    records = {f"note-{i}": f"original value {i} ".encode() * 8 for i in range(4)}
    a, _ = devices.open("device-a")
    b, _b_ident, b_port = devices.serving("device-b")
    for key, value in records.items():
        a.put(key, value)
    flipped: list[int] = []

    def flip(chunk: bytes, offset: int) -> bytes:
        if flipped or offset > 0 or len(chunk) < 16:
            return chunk
        position = int(len(chunk) * where)
        flipped.append(position)
        return chunk[:position] + bytes([chunk[position] ^ 0x04]) + chunk[position + 1:]

    relay, relay_ident = _relay(pki, b_port, tmp_path / "capture", tamper=flip)
    with relay:
        try:
            a.push(pki.peer(relay.port, relay_ident))  # type: ignore[arg-type]
        except IntegrityViolation:
            pass  # refusing the batch is the expected outcome
    assert flipped, "the relay never saw the push: nothing was tampered with"
    for key in b.keys():
        assert key in records and b.get(key) == records[key], f"device stored a tampered record under {key!r}"
