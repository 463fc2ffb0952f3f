"""The reusable Sealer, CollectionContext and Blinder are the one-shot envelope and blinding, only faster.

Stores use them on their hot paths, so any difference from ``envelope.seal`` / ``open_with`` / ``blind``
(another wire format, other associated data, a reused nonce, a key in a repr) would be a silent break.
"""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aico_secure import envelope
from aico_secure.crypto.aead import NONCE_BYTES, AesGcm, random_nonces
from aico_secure.crypto.subkeys import Blinder, NameCipher, blind, decrypt_name, encrypt_name
from aico_secure.envelope import CollectionContext, DataKey, RecordContext, Sealer
from aico_secure.errors import AuthenticationFailedError, CryptoError, MalformedEnvelopeError, UnknownKeyIdError
from aico_secure.sensitive import SecretBytes

KEY = DataKey(key_id=b"\x01" * 8, secret=SecretBytes(b"\x02" * 32))
OTHER = DataKey(key_id=b"\x03" * 8, secret=SecretBytes(b"\x04" * 32))
names = st.text(max_size=12)


@given(store=names, collection=names, record_key=st.binary(max_size=40))
def test_collection_context_encodes_exactly_as_record_context(store: str, collection: str, record_key: bytes) -> None:
    assert (CollectionContext(store, collection).encode(record_key)
            == RecordContext(store, collection, record_key).encode())


@given(plaintext=st.binary(max_size=1024), record_key=st.binary(max_size=24))
def test_sealer_and_one_shot_envelope_open_each_other(plaintext: bytes, record_key: bytes) -> None:
    context = RecordContext("rocksdb", "records", record_key)
    sealer = Sealer(KEY)
    assert envelope.open_(KEY, sealer.seal(plaintext, context.encode()), context) == plaintext
    assert sealer.open(envelope.seal(KEY, plaintext, context), context.encode()) == plaintext
    [many] = sealer.seal_many([(plaintext, context.encode())])
    assert envelope.open_(KEY, many, context) == plaintext


def test_seal_many_draws_a_fresh_nonce_for_every_record() -> None:
    context = CollectionContext("rocksdb", "records")
    sealed = Sealer(KEY).seal_many([(b"same", context.encode(b"k"))] * 2000)
    nonces = {s[1 + 8:1 + 8 + NONCE_BYTES] for s in sealed}
    assert len(nonces) == len(sealed)
    assert all(len(n) == NONCE_BYTES for n in random_nonces(3)) and random_nonces(0) == []


def test_sealer_binds_the_context_and_refuses_other_keys_and_garbage() -> None:
    context = CollectionContext("rocksdb", "records")
    sealer = Sealer(KEY)
    sealed = sealer.seal(b"value", context.encode(b"a"))
    with pytest.raises(AuthenticationFailedError):
        sealer.open(sealed, context.encode(b"b"))
    with pytest.raises(AuthenticationFailedError):
        sealer.open(sealed, CollectionContext("rocksdb", "meta").encode(b"a"))
    with pytest.raises(UnknownKeyIdError):
        Sealer(OTHER).open(sealed, context.encode(b"a"))
    with pytest.raises(MalformedEnvelopeError):
        sealer.open(sealed[:20], context.encode(b"a"))
    with pytest.raises(MalformedEnvelopeError):
        sealer.open(b"\x02" + sealed[1:], context.encode(b"a"))
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    with pytest.raises(CryptoError):
        sealer.open(bytes(flipped), context.encode(b"a"))
    assert envelope.claimed_key_id(sealed) == KEY.key_id


@given(name=st.binary(max_size=64))
def test_blinder_is_blind(name: bytes) -> None:
    key = SecretBytes(b"\x05" * 32)
    assert Blinder(key)(name) == blind(key, name)


@given(name=st.binary(max_size=64))
def test_name_cipher_is_encrypt_name_and_decrypt_name(name: bytes) -> None:
    key = SecretBytes(b"\x06" * 64)
    token = NameCipher(key).encrypt(name)
    assert token == encrypt_name(key, name)
    assert NameCipher(key).decrypt(token) == decrypt_name(key, token) == name
    with pytest.raises(ValueError):
        NameCipher(key).decrypt(token[:-1] + bytes([token[-1] ^ 1]))


def test_objects_holding_key_material_neither_print_nor_pickle_it() -> None:
    secret = b"\x02" * 32
    for holder in (Sealer(KEY), AesGcm(secret), Blinder(SecretBytes(secret)), NameCipher(SecretBytes(secret * 2))):
        assert secret.hex() not in repr(holder) and str(secret) not in repr(holder)
        with pytest.raises(TypeError):
            pickle.dumps(holder)
