"""Argon2id raw hashing (RFC 9106) through argon2-cffi's low-level binding."""

from __future__ import annotations

from argon2.low_level import Type, hash_secret_raw

MIN_SALT_BYTES = 16


def argon2id(
    password: bytes, salt: bytes, *, time_cost: int, memory_kib: int, parallelism: int, length: int = 32
) -> bytes:
    """Derive ``length`` bytes from ``password`` with Argon2id v1.3."""
    if len(salt) < MIN_SALT_BYTES:
        raise ValueError(f"Argon2id salt must be at least {MIN_SALT_BYTES} bytes")
    return hash_secret_raw(
        secret=password,
        salt=salt,
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=length,
        type=Type.ID,
        version=19,
    )
