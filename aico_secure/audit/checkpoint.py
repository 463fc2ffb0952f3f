"""The checkpoint: a MACed statement "log <id> had <count> entries ending in <head MAC>", kept beside the log.

Why a separate file: cutting entries off the end of ``audit.log`` leaves a shorter log whose every remaining
entry and link still verifies; only a statement stored elsewhere can say entries are missing.

Why two slots written in place: the checkpoint moves after every append, and replacing a file (temporary file
plus rename) costs more than the whole rest of an append. So ``audit.checkpoint`` holds two fixed-size slots
and the checkpoint for entry ``n`` overwrites slot ``n % 2``: one ``pwrite`` on a file kept open. A crash in
the middle of that write can damage only the slot being written; the other still holds the previous
checkpoint. Verification wants both slots authentic and consistent (the newest names the count, the other is
one behind or equal), so damage to a slot is reported; the writer repairs it when it reopens the log and says
so in the log itself.

Why HMAC and not a signature: every party that can verify a checkpoint must already hold the audit keys to read
the sealed entries, and anyone holding those keys can forge entries anyway, so a public-key signature would buy
no extra protection here; it would add a private key to store and a primitive outside the safe layer. A
signature pays off only with an external witness that keeps copies of checkpoints (the defence against rolling
back *both* files to an older state together); that is documented as the next step in docs/audit-consent.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from aico_secure.audit.chain import KEY_ID_BYTES, LOG_ID_BYTES, MAC_BYTES, checkpoint_mac, same
from aico_secure.audit.reader import LogFileUnreadable, read_prefix
from aico_secure.envelope import DataKey

FORMAT = "aico-audit-checkpoint/1"
SLOT_BYTES = 512
SLOTS = 2


@dataclass(frozen=True)
class Checkpoint:
    log_id: bytes
    count: int
    head: bytes
    key_id: bytes
    mac: bytes

    @classmethod
    def make(cls, key: DataKey, log_id: bytes, count: int, head: bytes) -> Checkpoint:
        return cls(log_id, count, head, key.key_id, checkpoint_mac(key, log_id, count, head))

    def authentic(self, key: DataKey) -> bool:
        return key.key_id == self.key_id and same(self.mac, checkpoint_mac(key, self.log_id, self.count, self.head))

    def encode(self) -> bytes:
        """One slot: the JSON statement padded with spaces to ``SLOT_BYTES``, ending in a newline."""
        document = {"format": FORMAT, "log_id": self.log_id.hex(), "count": self.count, "head": self.head.hex(),
                    "key_id": self.key_id.hex(), "mac": self.mac.hex()}
        text = json.dumps(document, sort_keys=True).encode()
        return text + b" " * (SLOT_BYTES - 1 - len(text)) + b"\n"


def _hex(value: object, size: int) -> bytes | None:
    if not isinstance(value, str) or len(value) != 2 * size:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def parse(slot: bytes) -> Checkpoint | None:
    """The checkpoint in one slot, or None when it is not one (authenticity is checked by the caller)."""
    if len(slot) != SLOT_BYTES:
        return None
    try:
        document = json.loads(slot.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or an integer too long to convert
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    count = document.get("count")
    log_id, head = _hex(document.get("log_id"), LOG_ID_BYTES), _hex(document.get("head"), MAC_BYTES)
    key_id, mac = _hex(document.get("key_id"), KEY_ID_BYTES), _hex(document.get("mac"), MAC_BYTES)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return None
    if log_id is None or head is None or key_id is None or mac is None:
        return None
    point = Checkpoint(log_id, count, head, key_id, mac)
    return point if point.encode() == slot else None  # one spelling only, like the log's lines


def read(path: Path) -> list[Checkpoint | None] | None:
    """Both slots (None for a damaged one), or None when there is no checkpoint file of the right size, or it is
    not a regular file (a FIFO would block the reader) or cannot be read."""
    try:
        data = read_prefix(path, SLOTS * SLOT_BYTES + 1)
    except LogFileUnreadable:
        return None
    if len(data) != SLOTS * SLOT_BYTES:
        return None
    return [parse(data[i * SLOT_BYTES : (i + 1) * SLOT_BYTES]) for i in range(SLOTS)]


class CheckpointWriter:
    """Keeps the checkpoint file open and moves the checkpoint forward in place."""

    def __init__(self, path: Path, *, durable: bool) -> None:
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._durable = durable

    def _pwrite(self, data: bytes, offset: int) -> None:
        assert self._fd is not None, "checkpoint writer is closed"
        view = memoryview(data)
        while view:
            written = os.pwrite(self._fd, view, offset)
            view, offset = view[written:], offset + written

    def _sync(self) -> None:
        if self._durable:
            assert self._fd is not None
            os.fsync(self._fd)

    def advance(self, point: Checkpoint) -> None:
        """Record ``point`` in slot ``count % 2``; the other slot keeps the previous checkpoint."""
        self._pwrite(point.encode(), (point.count % SLOTS) * SLOT_BYTES)
        self._sync()

    def reset(self, point: Checkpoint) -> None:
        """Write ``point`` to both slots (a new log, or a repair after a crash)."""
        assert self._fd is not None
        self._pwrite(point.encode() * SLOTS, 0)
        os.ftruncate(self._fd, SLOTS * SLOT_BYTES)
        os.fsync(self._fd)  # rare, and the state every later check starts from: always durable

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
