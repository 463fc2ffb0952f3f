"""A sync device's local records are a store like any other (AICO-DAR-005): a damaged file is refused with the
contract's typed error, when the device is opened or when the record is read, and never read back as other
data or as a silently shorter store.

Every file the device left in its directory is damaged in turn, in the ways disks and people damage files
(cut short, emptied, a byte flipped, overwritten with text that is not the format), one test per kind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.conform.checks import flip_byte
from aico_secure.probes.tls import DeviceSet
from aico_secure.target import IntegrityViolation

RECORDS = {f"note-{i}": f"value {i} of the user's notes ".encode() * 4 for i in range(5)}


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _flip_middle(path: Path) -> None:
    flip_byte(path, path.stat().st_size // 2)


def _not_the_format(path: Path) -> None:
    path.write_bytes(b"{\"note-0\": [1, 2, 3], \"\\u0000\": null" + b"\xff" * 16)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate, "emptied": _empty, "flipped-byte": _flip_middle, "not-the-format": _not_the_format,
}


@pytest.mark.requirement("AICO-DAR-005")
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_device_files_are_refused_or_read_exactly(devices: DeviceSet, damage: str) -> None:
    device, _ = devices.open("device-a")
    for key, value in RECORDS.items():
        device.put(key, value)
    device.close()
    directory = devices.root / "device-a"
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.stat().st_size > 0)
    assert files, "positive control: the device kept no file of its records"
    silent: list[str] = []
    for path in files:
        original = path.read_bytes()
        DAMAGE[damage](path)
        try:
            try:
                reopened, _ = devices.open("device-a")
            except IntegrityViolation:
                continue
            for key, value in RECORDS.items():
                try:
                    got = reopened.get(key)
                except IntegrityViolation:
                    continue
                if got != value:
                    silent.append(f"{path.relative_to(directory)}: {key} read back as "
                                  f"{'nothing' if got is None else 'other bytes'}")
            reopened.close()
        finally:
            path.write_bytes(original)
    assert not silent, f"{damage} device files accepted without a refusal: " + "; ".join(silent[:5])
