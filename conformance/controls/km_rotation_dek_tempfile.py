"""Data-key rotation stages the new data key in a ``tempfile.NamedTemporaryFile(delete=False)`` "in case the
keyring write fails" and never removes it.

Only rotation writes it, raw 32 bytes, under ``$TMPDIR``: create, unlock and close leave nothing anywhere, so
only the scan after a data-key rotation can find it (AICO-KM-003).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-003",)


class StagingSession(ReferenceKeySession):
    def rotate_data_key(self, purpose: str) -> None:
        super().rotate_data_key(purpose)
        with tempfile.NamedTemporaryFile(prefix=f"aico-dek-{purpose}-", delete=False) as staged:
            staged.write(self.keyring.active_data_key(purpose).secret.reveal())


class StagingKeys(ReferenceKeys):
    def create(self, directory: Path, password: str, *, fast_kdf: bool) -> ReferenceKeySession:
        return StagingSession(super().create(directory, password, fast_kdf=fast_kdf).keyring)

    def unlock(self, directory: Path, password: str) -> ReferenceKeySession:
        return StagingSession(super().unlock(directory, password).keyring)


def build() -> Target:
    return reference_with("rotated data key staged in a temp file", keys=StagingKeys())
