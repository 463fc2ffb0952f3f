"""Where the Argon2 binding is unavailable the build falls back to PBKDF2-HMAC-SHA256 and still writes (and
reports) the keyring as Argon2id with its calibrated parameters: the declaration is right, the derivation is
not memory-hard at all."""

from __future__ import annotations

import hashlib

from aico_secure.keys.profiles import KdfParameters
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-001",)
ITERATIONS_PER_PASS = 200_000


def _pbkdf2_fallback(self: KdfParameters, password: bytes, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password, salt, ITERATIONS_PER_PASS * self.time_cost, dklen=32)


def build() -> Target:
    # The reference's one KDF entry point, as this build has it: every create, unlock and re-derivation uses it.
    KdfParameters.derive = _pbkdf2_fallback  # type: ignore[method-assign]
    return reference_with("PBKDF2 fallback labelled Argon2id")
