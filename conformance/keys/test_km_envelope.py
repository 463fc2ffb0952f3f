"""AICO-KM-011: application-level encryption is authenticated, uses unique nonces, and binds each record.

Checked through ``KeySession.seal/open`` only: no knowledge of the build's envelope format is assumed.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aico_secure.target import IntegrityViolation, KeySession

pytestmark = pytest.mark.requirement("AICO-KM-011")
_settings = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


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


def test_no_keystream_reuse_between_records(key_session: KeySession) -> None:
    """With a repeated nonce, ct1 XOR ct2 equals pt1 XOR pt2 at the ciphertext's offset. Look for that at every
    alignment, so the check needs no knowledge of the envelope layout."""
    pt1, pt2 = b"A" * 64, bytes(range(64))
    diff = bytes(a ^ b for a, b in zip(pt1, pt2, strict=True))
    for _ in range(20):
        c1, c2 = key_session.seal("libsql", b"k", pt1), key_session.seal("libsql", b"k", pt2)
        if len(c1) != len(c2):
            continue
        xored = bytes(a ^ b for a, b in zip(c1, c2, strict=True))
        assert diff[:32] not in xored, "two records were encrypted with the same keystream (nonce reuse)"
