"""Sealed records (the envelope format every store and the audit log use): parsing and opening."""

from __future__ import annotations

from collections.abc import Iterator

from aico_secure import envelope as envelope_format
from aico_secure.envelope import DataKey, RecordContext
from aico_secure.errors import CryptoError
from aico_secure.fuzz.interface import Harness
from aico_secure.sensitive import SecretBytes

KEY = DataKey(b"\x01" * 8, SecretBytes(b"\x02" * 32))
CONTEXT = RecordContext("fuzz", "c", b"k")


class EnvelopeHarness(Harness):
    name = "envelope"
    surface = "a sealed record read back from any store: envelope.open_ under the right key and context"
    refusals = (CryptoError,)
    max_len = 4096

    def run(self, data: bytes) -> None:
        envelope_format.open_(KEY, data, CONTEXT)

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        for size in (0, 1, 255, 1024):
            yield f"sealed-{size}", envelope_format.seal(KEY, b"x" * size, CONTEXT)


HARNESS = EnvelopeHarness()
