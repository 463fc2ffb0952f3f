"""Properties of the AEAD envelope, stated as the requirements state them (AICO-KM-011)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aico_secure import envelope
from aico_secure.envelope import DataKey, RecordContext
from aico_secure.errors import AuthenticationFailedError, CryptoError, MalformedEnvelopeError, UnknownKeyIdError
from aico_secure.sensitive import SecretBytes

KEY = DataKey(key_id=b"\x01" * 8, secret=SecretBytes(b"\x02" * 32))
OTHER = DataKey(key_id=b"\x03" * 8, secret=SecretBytes(b"\x04" * 32))
contexts = st.builds(RecordContext, st.text(max_size=12), st.text(max_size=12), st.binary(max_size=24))


@given(plaintext=st.binary(max_size=2048), context=contexts)
def test_what_is_sealed_opens_to_the_same_bytes(plaintext: bytes, context: RecordContext) -> None:
    assert envelope.open_(KEY, envelope.seal(KEY, plaintext, context), context) == plaintext


@given(plaintext=st.binary(max_size=256), context=contexts, data=st.data())
def test_any_bit_flip_is_rejected(plaintext: bytes, context: RecordContext, data: st.DataObject) -> None:
    sealed = bytearray(envelope.seal(KEY, plaintext, context))
    i = data.draw(st.integers(0, len(sealed) - 1))
    sealed[i] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(CryptoError):
        envelope.open_(KEY, bytes(sealed), context)


@given(plaintext=st.binary(max_size=256), context=contexts, data=st.data())
def test_truncation_and_extension_are_rejected(plaintext: bytes, context: RecordContext, data: st.DataObject) -> None:
    sealed = envelope.seal(KEY, plaintext, context)
    with pytest.raises(CryptoError):
        envelope.open_(KEY, sealed[: data.draw(st.integers(0, len(sealed) - 1))], context)
    with pytest.raises(AuthenticationFailedError):
        envelope.open_(KEY, sealed + data.draw(st.binary(min_size=1, max_size=16)), context)


@given(plaintext=st.binary(max_size=64), a=contexts, b=contexts)
def test_a_record_cannot_be_moved_to_another_context(plaintext: bytes, a: RecordContext, b: RecordContext) -> None:
    sealed = envelope.seal(KEY, plaintext, a)
    if a == b:
        assert envelope.open_(KEY, sealed, b) == plaintext
    else:
        with pytest.raises(AuthenticationFailedError):
            envelope.open_(KEY, sealed, b)


def test_context_encoding_is_unambiguous() -> None:
    assert RecordContext("ab", "c", b"").encode() != RecordContext("a", "bc", b"").encode()


def test_wrong_key_and_unknown_key_id_are_typed() -> None:
    ctx = RecordContext("s", "c", b"k")
    sealed = envelope.seal(KEY, b"x", ctx)
    with pytest.raises(UnknownKeyIdError):
        envelope.open_(OTHER, sealed, ctx)
    impostor = DataKey(KEY.key_id, OTHER.secret)
    with pytest.raises(AuthenticationFailedError):
        envelope.open_(impostor, sealed, ctx)


@pytest.mark.parametrize("junk", [b"", b"\x01", b"\x02" + b"\x00" * 40, b"\x01" * 36])
def test_malformed_envelopes_are_typed(junk: bytes) -> None:
    with pytest.raises((MalformedEnvelopeError, AuthenticationFailedError)):
        envelope.open_(KEY, junk, RecordContext("s", "c", b"k"))


def test_no_nonce_repeats_over_100k_encryptions() -> None:
    ctx = RecordContext("s", "c", b"k")
    nonces = {envelope.parse(envelope.seal(KEY, b"", ctx)).nonce for _ in range(100_000)}
    assert len(nonces) == 100_000


def test_secret_bytes_never_print() -> None:
    secret = SecretBytes(os.urandom(32))
    for text in (repr(secret), str(secret), f"{secret}", repr(KEY)):
        assert secret.reveal().hex() not in text and "redacted" in text
    with pytest.raises(TypeError):
        bytes(secret)  # type: ignore[call-overload]
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_wire_format_is_the_documented_one_in_both_directions() -> None:
    """Sealed data must outlive the release that wrote it: an envelope laid out by hand as the module documents
    (version | key id | 96-bit nonce | AES-256-GCM ciphertext and tag; those three header fields and the context are
    the associated data)
    opens, and what ``seal`` writes opens with AES-GCM applied by hand to that layout."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    context = RecordContext("libsql", "notes", b"r1")
    header = bytes([1]) + KEY.key_id
    nonce = bytes(range(12))
    by_hand = header + nonce + AESGCM(b"\x02" * 32).encrypt(nonce, b"kept for years",
                                                                   header + nonce + context.encode())
    assert envelope.open_(KEY, by_hand, context) == b"kept for years"

    sealed = envelope.seal(KEY, b"written today", context)
    head, nonce_now, body = sealed[:9], sealed[9:21], sealed[21:]
    assert head == header
    assert AESGCM(b"\x02" * 32).decrypt(nonce_now, body, head + nonce_now + context.encode()) == b"written today"
