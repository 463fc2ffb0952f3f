"""A sync between two mutually authenticated devices reports what it moved, including nothing.

A new device has no records yet, and a device that has already handed everything over may have nothing new: the
contract has ``push``/``pull`` return how many records the other side stored or this side took, and reserves
``IntegrityViolation`` for a malformed exchange or refused records. A build that treats an empty sync as a
malformed reply turns the first sync of every fresh device into an integrity alarm, which teaches users to
ignore the alarm that matters. Attached to AICO-TLS-004, the requirement whose positive side is "paired devices
with valid certificates sync" (no requirement speaks of counts).
"""

from __future__ import annotations

import pytest

from aico_secure.probes.tls import DeviceSet, SuitePki


@pytest.mark.requirement("AICO-TLS-004")
def test_tls_sync_counts_are_exact_from_zero(devices: DeviceSet, pki: SuitePki) -> None:
    fresh, _ = devices.open("device-fresh")
    server, server_ident, port = devices.serving("device-server")
    peer = pki.peer(port, server_ident)

    assert fresh.push(peer) == 0, "pushing from a device without records did not report 0 stored"
    assert fresh.pull(peer) == 0, "pulling from a peer without records did not report 0 taken"
    assert fresh.keys() == [] and server.keys() == [], "an empty sync created records"

    # positive control: the same pair then moves a record and counts it
    fresh.put("first-note", b"the first thing this device learned")
    assert fresh.push(peer) == 1
    assert server.get("first-note") == b"the first thing this device learned"
    other, _ = devices.open("device-other")
    assert other.pull(peer) == 1
    assert other.get("first-note") == b"the first thing this device learned"
