"""A broker does not go on using a secret key that others can read (AICO-BUS-003).

The broker keeps its key pair in its directory, owner-only, and loads it again when it restarts there. If
something loosened a key file's mode in between (a backup restored with the wrong umask, a careless chmod),
whoever can read it can now be the broker or one of its components. A restarted broker must either refuse to
start on it (the contract's ``ValueError`` or a typed error) or make it owner-only again before it serves; it
must not carry on as if nothing happened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aico_secure.probes.bus import RecordingSink
from aico_secure.target import CapabilityMissing, ContractError
from aico_secure.target.bus import BusCapability, BusKeyFilesHook


def stopped_broker(bus: BusCapability, directory: Path) -> tuple[bytes, list[Path]]:
    """Run a broker on ``directory`` through an enrollment and stop it: its server key and declared key files."""
    directory.mkdir(mode=0o700)
    broker = bus.start(directory, audit=RecordingSink())
    try:
        if not isinstance(broker, BusKeyFilesHook):
            raise CapabilityMissing("the broker offers no key_files() test hook (BusKeyFilesHook)")
        broker.enroll("keyholder", publish=["probe."])
        server_key, files = broker.server_key, [Path(p) for p in broker.key_files()]
    finally:
        broker.stop()
    assert files, "the broker declares no key file"
    return server_key, files


@pytest.mark.requirement("AICO-BUS-003")
@pytest.mark.parametrize("loosened", [0o644, 0o640, 0o604], ids=["0644", "0640", "0604"])
def test_bus_restart_on_a_loosened_key_file_refuses_or_repairs(bus: BusCapability, tmp_path: Path,
                                                               loosened: int) -> None:
    directory = tmp_path / "bus"
    _server_key, files = stopped_broker(bus, directory)
    for path in files:
        os.chmod(path, loosened)
    try:
        again = bus.start(directory, audit=RecordingSink())
    except (ValueError, ContractError):
        return  # refused: the loosened key is not used
    try:
        still_open = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in files
                      if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o077}
        assert not still_open, (
            f"a broker restarted on key files made {oct(loosened)} serves with them still readable by others: "
            f"{still_open}")
    finally:
        again.stop()


@pytest.mark.requirement("AICO-BUS-003")
def test_bus_restart_on_a_damaged_key_file_refuses_or_keeps_its_identity(bus: BusCapability, tmp_path: Path) -> None:
    """A key file damaged between runs (one character of it changed) must not leave a broker running on a key
    it cannot use or quietly turned into another one: it refuses to start (the contract's ``ValueError`` or a
    typed error), or it starts with the same server key as before."""
    directory = tmp_path / "bus"
    server_key, files = stopped_broker(bus, directory)
    refused, started = [], []
    for path in files:
        original = path.read_bytes()
        # several places, so that wherever a format keeps its public and its secret part, both get hit
        for at in sorted({len(original) // 2, len(original) * 3 // 4, len(original) * 9 // 10, len(original) - 8}):
            damaged = original[:at] + b"~" + original[at + 1:]  # "~" is in no key encoding (Z85, base64, hex)
            path.write_bytes(damaged)
            try:
                again = bus.start(directory, audit=RecordingSink())
            except (ValueError, ContractError):
                refused.append(f"{path.name}@{at}")
            else:
                try:
                    assert again.server_key == server_key, (
                        f"a broker restarted on {path.name} damaged at byte {at} came up with another server key")
                    started.append(f"{path.name}@{at}")
                finally:
                    again.stop()
            finally:
                path.write_bytes(original)
    assert refused or started, "positive control: no key file was damaged"
