"""The Argon2 call is given the keyring's memory in MiB where the library expects KiB: every keyring declares
(and its own checks accept) m=256 MiB, but each derivation fills only 256 KiB, so a guess costs an attacker a
thousandth of the memory the keyring promises."""

from __future__ import annotations

from aico_secure.crypto.argon2id import argon2id
from aico_secure.keys.profiles import KdfParameters
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-KM-001",)


def _derive_with_mib(self: KdfParameters, password: bytes, salt: bytes) -> bytes:
    memory = max(8 * self.parallelism, self.memory_kib // 1024)  # the unit slip; Argon2's own minimum still holds
    return argon2id(password, salt, time_cost=self.time_cost, memory_kib=memory, parallelism=self.parallelism)


def build() -> Target:
    # The reference's one KDF entry point, as this build has it: every create, unlock and re-derivation uses it.
    KdfParameters.derive = _derive_with_mib  # type: ignore[method-assign]
    return reference_with("Argon2 memory given in MiB for KiB")
