"""The checkpoint: a MACed statement "log <id> had <count> entries ending in <head MAC>", kept beside the log.

Why a separate file: cutting entries off the end of ``audit.log`` leaves a shorter log whose every remaining
entry and link still verifies; only a statement stored elsewhere can say entries are missing. The writer
replaces the checkpoint atomically after every append, so at most the one entry being written when a crash
hits can lie beyond it (reported as a warning, and re-anchored on the next open).

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
from aico_secure.envelope import DataKey
from aico_secure.keys.atomic import atomic_write

FORMAT = "aico-audit-checkpoint/1"
MAX_CHECKPOINT_BYTES = 4096


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
        document = {"format": FORMAT, "log_id": self.log_id.hex(), "count": self.count, "head": self.head.hex(),
                    "key_id": self.key_id.hex(), "mac": self.mac.hex()}
        return json.dumps(document, sort_keys=True).encode() + b"\n"


def _hex(value: object, size: int) -> bytes | None:
    if not isinstance(value, str) or len(value) != 2 * size:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def parse(data: bytes) -> Checkpoint | None:
    """The checkpoint in ``data``, or None when it is not one (authenticity is checked by the caller)."""
    if len(data) > MAX_CHECKPOINT_BYTES:
        return None
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
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
    return point if point.encode() == data else None  # one spelling only, like the log's lines


def read(path: Path) -> Checkpoint | None:
    try:
        with path.open("rb") as fh:
            return parse(fh.read(MAX_CHECKPOINT_BYTES + 1))
    except (FileNotFoundError, IsADirectoryError):
        return None


def write(path: Path, checkpoint: Checkpoint, *, durable: bool) -> None:
    """Replace the checkpoint in one step: readers see the old one or the new one, never a mix."""
    if durable:
        atomic_write(path, checkpoint.encode())
        return
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(checkpoint.encode())
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(tmp, path)
