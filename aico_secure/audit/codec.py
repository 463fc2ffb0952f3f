"""How an entry's body is kept on disk: sealed (the reference) or plain (benchmarks and negative controls).

Sealing uses the envelope (AES-256-GCM under the ``audit`` data key) with the log id and the entry's sequence
number as associated data, so a sealed body cannot be moved to another position or another log and still
open. The plain codec exists only so the benchmark can price sealing and a negative control can show the suite
catches a readable log; no build should use it.
"""

from __future__ import annotations

import struct
from typing import Protocol

from aico_secure import envelope
from aico_secure.audit.logkeys import LogKeys
from aico_secure.envelope import RecordContext
from aico_secure.errors import CryptoError


class BodyUnreadable(Exception):
    """A body did not open (wrong key, damaged, or moved from elsewhere)."""


class EntryCodec(Protocol):
    name: str

    def encode(self, plaintext: bytes, log_id: bytes, seq: int) -> bytes: ...

    def decode(self, body: bytes, log_id: bytes, seq: int) -> bytes:
        """The plaintext; ``BodyUnreadable`` when it cannot be recovered."""


def _context(log_id: bytes, seq: int) -> RecordContext:
    return RecordContext(store="audit", collection=log_id.hex(), record_key=struct.pack(">Q", seq))


class SealedCodec:
    name = "sealed"

    def __init__(self, keys: LogKeys) -> None:
        self._keys = keys

    def encode(self, plaintext: bytes, log_id: bytes, seq: int) -> bytes:
        return envelope.seal(self._keys.seal_key(), plaintext, _context(log_id, seq))

    def decode(self, body: bytes, log_id: bytes, seq: int) -> bytes:
        try:
            return envelope.open_with(self._keys.seal_key_by_id, body, _context(log_id, seq))
        except CryptoError as exc:
            raise BodyUnreadable(str(exc)) from None


class PlainCodec:
    """No confidentiality at all: for benchmarks and negative controls only."""

    name = "plain"

    def encode(self, plaintext: bytes, log_id: bytes, seq: int) -> bytes:
        return plaintext

    def decode(self, body: bytes, log_id: bytes, seq: int) -> bytes:
        return body
