"""Master-key and KEK rotation with 1 MiB and with 1 GiB of sealed data behind the keyring.

Envelope encryption promises rotation cost independent of data size: the ratio of the two timings should be
about 1. The data really exists (sealed chunks on disk under the rotated DEK) and is re-read after rotation
to show it still opens.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from aico_secure import envelope
from aico_secure.envelope import RecordContext
from aico_secure.keys import Keyring

CHUNK = 1 << 20


def _populate(directory: Path, total: int) -> Path:
    keyring = Keyring.create(directory / "keyring.json", "bench-password", profile="test", purposes=["libsql"])
    key = keyring.active_data_key("libsql")
    payload = os.urandom(CHUNK)
    with (directory / "data.bin").open("wb") as fh:
        for i in range(total // CHUNK):
            fh.write(envelope.seal(key, payload, RecordContext("libsql", "bench", str(i).encode())))
    return directory / "keyring.json"


def _time_rotations(path: Path, repeats: int) -> dict[str, float]:
    keyring = Keyring.unlock(path, "bench-password")
    timings: dict[str, list[float]] = {"rotate_master": [], "rotate_kek": []}
    for _ in range(repeats):
        start = time.perf_counter()
        keyring.rotate_master("bench-password")
        timings["rotate_master"].append(time.perf_counter() - start)
        start = time.perf_counter()
        keyring.rotate_kek("libsql")
        timings["rotate_kek"].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in timings.items()}


def _check_first_chunk(path: Path) -> None:
    keyring = Keyring.unlock(path, "bench-password")
    blob = (path.parent / "data.bin").read_bytes()[: CHUNK + envelope.MIN_ENVELOPE_BYTES]
    envelope.open_with(lambda kid: keyring.data_key("libsql", kid), blob, RecordContext("libsql", "bench", b"0"))


def main() -> None:
    sizes = {"1 MiB": 1 << 20, "1 GiB": 1 << 30}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in sizes.items():
            directory = Path(tmp) / label.replace(" ", "")
            directory.mkdir()
            path = _populate(directory, size)
            results[label] = _time_rotations(path, repeats=7)
            _check_first_chunk(path)
            (directory / "data.bin").unlink()
    for op in ("rotate_master", "rotate_kek"):
        small, large = results["1 MiB"][op], results["1 GiB"][op]
        print(f"{op:14s} 1 MiB: {small * 1e3:7.2f} ms   1 GiB: {large * 1e3:7.2f} ms   ratio 1GiB/1MiB = "
              f"{large / small:.2f} (about 1 expected: no data is re-encrypted)")


if __name__ == "__main__":
    main()
