"""Keyring files: parsing and validation of ``keyring.json`` as found on disk (possibly edited by an attacker).

Stops short of running Argon2id on the parsed parameters (that is bounded by ``KdfParameters.validate``, part of
what is fuzzed), so every input is cheap.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.errors import KeyringError
from aico_secure.fuzz.interface import Harness
from aico_secure.keys import keyring as keyring_module
from aico_secure.keys import keyring_file


class KeyringHarness(Harness):
    name = "keyring"
    surface = "keyring.json as read from disk: keyring_file.read_document and the KDF parameters in it"
    refusals = (KeyringError,)
    dictionary = (b'"kdf"', b'"argon2id"', b'"salt"', b'"memory_kib"', b'"iterations"', b'"lanes"', b'"deks"',
                  b'"version"', b'"mac"', b'"verifier"', b'"wrapped"', b'"active"', b'"counters"')

    def setup(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="aico-fuzz-keyring-"))
        self._path = self._dir / "keyring.json"

    def teardown(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def run(self, data: bytes) -> None:
        self._path.write_bytes(data)
        document = keyring_file.read_document(self._path)
        keyring_module._kdf_from(document)

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        Keyring = keyring_module.Keyring

        with tempfile.TemporaryDirectory() as scratch:
            path = Keyring.path_in(Path(scratch))
            unlocked = Keyring.create(path, secrets.token_urlsafe(24), profile="test", purposes=("libsql", "audit"))
            yield "created", path.read_bytes()
            unlocked.rotate_dek("libsql")
            yield "rotated", path.read_bytes()


HARNESS = KeyringHarness()
