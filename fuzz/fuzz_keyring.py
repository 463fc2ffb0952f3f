"""Atheris harness: keyring file parsing and validation refuse malformed input with KeyringError only.

Stops short of running Argon2id on the parsed parameters (that is bounded by KdfParameters.validate, which
is part of what is fuzzed) so every input is cheap.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from aico_secure.errors import KeyringError
    from aico_secure.keys import keyring as keyring_module
    from aico_secure.keys import keyring_file

_DIR = Path(tempfile.mkdtemp(prefix="aico-fuzz-keyring-"))
_PATH = _DIR / "keyring.json"


def test_one_input(data: bytes) -> None:
    _PATH.write_bytes(data)
    try:
        document = keyring_file.read_document(_PATH)
        keyring_module._kdf_from(document)
    except KeyringError:
        pass


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
