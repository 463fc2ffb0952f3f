"""Atheris harness: envelope parsing and opening accept or refuse with CryptoError, nothing else."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from aico_secure import envelope
    from aico_secure.envelope import DataKey, RecordContext
    from aico_secure.errors import CryptoError
    from aico_secure.sensitive import SecretBytes

KEY = DataKey(b"\x01" * 8, SecretBytes(b"\x02" * 32))
CONTEXT = RecordContext("fuzz", "c", b"k")


def test_one_input(data: bytes) -> None:
    try:
        envelope.open_(KEY, data, CONTEXT)
    except CryptoError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
