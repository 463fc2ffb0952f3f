"""Argon2id parameter profiles.

``production`` is never below RFC 9106's second recommended option (t=3, m=64 MiB, p=4) and by default is
calibrated on the machine that creates the keyring: memory is fixed at 256 MiB and the pass count is raised
until one derivation takes at least half a second (stopping before one second where the hardware allows).
The calibrated numbers are written into the keyring, so unlocking later uses exactly them.

``test`` is cheap and exists so test suites can create hundreds of keyrings. Keyrings made with it carry
``test_only: true`` and a warning, and the conformance suite refuses them for a release.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Literal

from aico_secure.crypto.argon2id import argon2id
from aico_secure.errors import KdfProfileError

ProfileName = Literal["production", "test"]

# RFC 9106 section 4, second recommended option: the floor for anything called production.
RFC9106_SECOND_OPTION = {"time_cost": 3, "memory_kib": 64 * 1024, "parallelism": 4}
CALIBRATED_MEMORY_KIB = 256 * 1024
CALIBRATION_TARGET_SECONDS = (0.5, 1.0)
MAX_TIME_COST = 32
# Refuse absurd parameters from a file before spending memory on them (a hostile keyring could ask for 1 TiB).
MAX_MEMORY_KIB = 4 * 1024 * 1024


@dataclass(frozen=True)
class KdfParameters:
    profile: ProfileName
    time_cost: int
    memory_kib: int
    parallelism: int

    @property
    def test_only(self) -> bool:
        return self.profile == "test"

    def validate(self) -> None:
        """Reject parameters that are malformed or below the floor their profile promises."""
        for name in ("time_cost", "memory_kib", "parallelism"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise KdfProfileError(f"KDF parameter {name} must be a positive integer")
        if self.memory_kib > MAX_MEMORY_KIB or self.time_cost > MAX_TIME_COST or self.parallelism > 64:
            raise KdfProfileError("KDF parameters exceed the supported maximum")
        if self.memory_kib < 8 * self.parallelism:
            raise KdfProfileError("Argon2id needs at least 8 KiB of memory per lane")
        if self.profile == "production":
            for name, floor in RFC9106_SECOND_OPTION.items():
                if getattr(self, name) < floor:
                    raise KdfProfileError(
                        f"production KDF parameter {name}={getattr(self, name)} is below RFC 9106's floor {floor}"
                    )
        elif self.profile != "test":
            raise KdfProfileError(f"unknown KDF profile {self.profile!r}")

    def derive(self, password: bytes, salt: bytes) -> bytes:
        return argon2id(
            password, salt, time_cost=self.time_cost, memory_kib=self.memory_kib, parallelism=self.parallelism
        )


TEST_PARAMETERS = KdfParameters(profile="test", time_cost=1, memory_kib=1024, parallelism=1)


def calibrate_production() -> KdfParameters:
    """Find production parameters that take 0.5-1 s on this machine, never below the RFC 9106 floor."""
    time_cost = RFC9106_SECOND_OPTION["time_cost"]
    salt = os.urandom(16)
    while True:
        params = KdfParameters("production", time_cost, CALIBRATED_MEMORY_KIB, 4)
        start = time.perf_counter()
        params.derive(b"calibration", salt)
        elapsed = time.perf_counter() - start
        if elapsed >= CALIBRATION_TARGET_SECONDS[0] or time_cost >= MAX_TIME_COST:
            return params
        per_pass = elapsed / time_cost
        # Jump straight to the pass count that should land inside the window, then re-measure.
        wanted = int(CALIBRATION_TARGET_SECONDS[0] / per_pass) + 1
        next_cost = min(MAX_TIME_COST, max(time_cost + 1, wanted))
        if per_pass * next_cost > CALIBRATION_TARGET_SECONDS[1] and next_cost > time_cost + 1:
            next_cost -= 1
        time_cost = next_cost


def parameters_for(profile: str) -> KdfParameters:
    if profile == "production":
        return calibrate_production()
    if profile == "test":
        return TEST_PARAMETERS
    raise KdfProfileError(f"unknown KDF profile {profile!r}; choose 'production' or 'test'")
