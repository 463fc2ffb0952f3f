"""The audit checkpoint file (``audit.checkpoint``, two fixed-size MACed slots) as found on disk.

Runs what ``verify`` does with it: ``checkpoint.read`` (both slots parsed, one spelling only) and the slot
authentication and consistency check. The check is given no log id, so a slot of any log authenticates under
the fixed audit keys (``_fixed_keys``): stored seeds from a real log keep reaching the consistency rules in
every later process, although each seed log had its own random id.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.audit import checkpoint as cp
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import checkpoint_path
from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.audit.verify import Verification, _check_checkpoint
from aico_secure.fuzz._harness._fixed_keys import fixed_keyring
from aico_secure.fuzz.interface import Harness


class AuditCheckpointHarness(Harness):
    name = "audit_checkpoint"
    surface = "audit.checkpoint as found on disk: checkpoint.read and verify's slot authentication and consistency"
    refusals = ()  # both functions report damage as None / a problem; they document no exception at all
    max_len = 2 * cp.SLOTS * cp.SLOT_BYTES  # only an exact 1024-byte file is parsed; a little more is refused
    timeout_s = 5
    rss_limit_mb = 1024
    dictionary = (b'"count": ', b'"format": ', b'"aico-audit-checkpoint/1"', b'"head": ', b'"key_id": ',
                  b'"log_id": ', b'"mac": ', b", ", b"{", b"}", b" " * 16, b"\n", b"00" * 8, b"00" * 16,
                  b"9223372036854775807", b"18446744073709551616", b"-1", b"true", b"1e3", b"\\u0030")

    def setup(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="aico-fuzz-audit-checkpoint-"))
        self._keys = KeyringLogKeys(fixed_keyring())

    def teardown(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def run(self, data: bytes) -> None:
        path = checkpoint_path(self._dir)
        path.write_bytes(data)
        cp.read(path)
        _check_checkpoint(self._dir, self._keys, None, Verification())

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        from aico_secure.audit.log import AuditLog

        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            log = AuditLog.open(directory, KeyringLogKeys(fixed_keyring()), durable=False, clock=lambda: 1e9)
            try:
                yield "new-log", checkpoint_path(directory).read_bytes()
                for n in range(1, 4):
                    log.append(AuditEvent(category="system", action="tick", actor="fuzz", details={"n": n}))
                    yield f"after-{n}", checkpoint_path(directory).read_bytes()  # slots one apart
            finally:
                log.close()


HARNESS = AuditCheckpointHarness()
