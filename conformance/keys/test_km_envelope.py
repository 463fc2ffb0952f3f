"""AICO-KM-011: application-level encryption is authenticated, uses unique nonces, and binds each record.

Checked through ``KeySession.seal/open`` only: no knowledge of the build's envelope format is assumed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aico_secure.conform.hypothesis_profiles import DISK, gate_budget
from aico_secure.target import IntegrityViolation, KeysCapability, KeySession

pytestmark = pytest.mark.requirement("AICO-KM-011")
_settings = settings(max_examples=gate_budget(DISK), deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@_settings
@given(plaintext=st.binary(max_size=512), record_key=st.binary(min_size=1, max_size=32))
def test_round_trip(key_session: KeySession, plaintext: bytes, record_key: bytes) -> None:
    assert key_session.open("libsql", record_key, key_session.seal("libsql", record_key, plaintext)) == plaintext


@_settings
@given(plaintext=st.binary(min_size=1, max_size=256), data=st.data())
def test_any_bit_flip_is_rejected(key_session: KeySession, plaintext: bytes, data: st.DataObject) -> None:
    sealed = bytearray(key_session.seal("libsql", b"k", plaintext))
    position = data.draw(st.integers(0, len(sealed) - 1))
    sealed[position] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(IntegrityViolation):
        key_session.open("libsql", b"k", bytes(sealed))


@_settings
@given(plaintext=st.binary(max_size=256), data=st.data())
def test_truncation_and_extension_are_rejected(key_session: KeySession, plaintext: bytes, data: st.DataObject) -> None:
    sealed = key_session.seal("libsql", b"k", plaintext)
    cut = data.draw(st.integers(0, len(sealed) - 1))
    with pytest.raises(IntegrityViolation):
        key_session.open("libsql", b"k", sealed[:cut])
    with pytest.raises(IntegrityViolation):
        key_session.open("libsql", b"k", sealed + data.draw(st.binary(min_size=1, max_size=32)))


def test_record_moved_to_another_key_or_purpose_is_rejected(key_session: KeySession) -> None:
    sealed = key_session.seal("libsql", b"alice", b"secret")
    for purpose, record_key in (("libsql", b"bob"), ("libsql", b"alic"), ("rocksdb", b"alice"), ("chroma", b"alice")):
        with pytest.raises(IntegrityViolation):
            key_session.open(purpose, record_key, sealed)


def test_garbage_is_rejected_with_a_typed_error(key_session: KeySession) -> None:
    for junk in (b"", b"\x00", b"\x01" * 5, b"\xff" * 40, bytes(range(256))):
        with pytest.raises(IntegrityViolation):
            key_session.open("libsql", b"k", junk)


def test_same_plaintext_never_seals_the_same(key_session: KeySession) -> None:
    sealed = {key_session.seal("libsql", b"k", b"same plaintext") for _ in range(1000)}
    assert len(sealed) == 1000, "two seals of one plaintext were identical (nonce reuse or no randomness)"


PT1, PT2 = b"A" * 64, bytes(range(64))


def _keystream_shared(c1: bytes, c2: bytes) -> bool | None:
    """With a repeated nonce, ct1 XOR ct2 equals pt1 XOR pt2 at the ciphertext's offset (``PT1`` sealed into
    ``c1``, ``PT2`` into ``c2``). Looked for at every alignment, so no knowledge of the envelope layout is
    needed. ``None``: the two are of different lengths and cannot be compared this way."""
    if len(c1) != len(c2):
        return None
    diff = bytes(a ^ b for a, b in zip(PT1, PT2, strict=True))
    return diff[:32] in bytes(a ^ b for a, b in zip(c1, c2, strict=True))


def test_no_keystream_reuse_between_records(key_session: KeySession) -> None:
    compared = 0
    for _ in range(20):
        shared = _keystream_shared(key_session.seal("libsql", b"k", PT1), key_session.seal("libsql", b"k", PT2))
        assert not shared, "two records were encrypted with the same keystream (nonce reuse)"
        compared += shared is not None
    assert compared, "records of equal length sealed to different lengths every time: nothing was compared"


@pytest.mark.parametrize("reopen", ["same-instance", "after-restart"])
def test_no_keystream_reuse_across_sessions(keys: KeysCapability, key_session: KeySession, tmp_path: Path,
                                            password: str, fresh_keys: Callable[[], KeysCapability],
                                            reopen: str) -> None:
    """Nonces must stay unique over the key's whole life, not within one session: a counter that starts again at
    every unlock (or every process) repeats the first nonces of the last session under the same data key."""
    first = [key_session.seal("libsql", b"k", PT1) for _ in range(8)]
    key_session.close()
    opener = keys if reopen == "same-instance" else fresh_keys()
    session = opener.unlock(tmp_path / "keys", password)
    try:
        second = [session.seal("libsql", b"k", PT2) for _ in range(8)]
    finally:
        session.close()
    results = [_keystream_shared(c1, c2) for c1 in first for c2 in second]
    assert not any(results), f"a record sealed after {reopen.replace('-', ' ')} reused the keystream (nonce) of " \
                             "one sealed in the session before, under the same data key"
    assert any(r is not None for r in results), "records of equal length sealed to different lengths: nothing compared"
