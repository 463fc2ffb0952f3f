"""The low-level primitives against Wycheproof: AES-256-GCM (96-bit nonces), HKDF-SHA256, HMAC-SHA256, Ed25519."""

from __future__ import annotations

from typing import Any

import pytest

from aico_secure.crypto.aead import InvalidTagError, aes_gcm_decrypt, aes_gcm_encrypt
from aico_secure.crypto.ed25519 import ed25519_verify
from aico_secure.crypto.hkdf import hkdf_sha256, hmac_sha256
from verification.conftest import wycheproof_vectors


@wycheproof_vectors("aes_gcm_test.json", keySize=256, ivSize=96, tagSize=128)
def test_aes_256_gcm(vector: dict[str, Any]) -> None:
    key, iv, aad = bytes.fromhex(vector["key"]), bytes.fromhex(vector["iv"]), bytes.fromhex(vector["aad"])
    msg, ct = bytes.fromhex(vector["msg"]), bytes.fromhex(vector["ct"]) + bytes.fromhex(vector["tag"])
    if vector["result"] == "valid":
        assert aes_gcm_encrypt(key, iv, msg, aad) == ct
        assert aes_gcm_decrypt(key, iv, ct, aad) == msg
    else:
        with pytest.raises(InvalidTagError):
            aes_gcm_decrypt(key, iv, ct, aad)


@wycheproof_vectors("hkdf_sha256_test.json")
def test_hkdf_sha256(vector: dict[str, Any]) -> None:
    ikm, salt, info = (bytes.fromhex(vector[k]) for k in ("ikm", "salt", "info"))
    if vector["result"] == "valid":
        assert hkdf_sha256(ikm, info=info, salt=salt or None, length=vector["size"]) == bytes.fromhex(vector["okm"])
    else:
        with pytest.raises(ValueError):
            hkdf_sha256(ikm, info=info, salt=salt or None, length=vector["size"])


@wycheproof_vectors("hmac_sha256_test.json", tagSize=256)
def test_hmac_sha256(vector: dict[str, Any]) -> None:
    tag = hmac_sha256(bytes.fromhex(vector["key"]), bytes.fromhex(vector["msg"]))
    assert (tag == bytes.fromhex(vector["tag"])) == (vector["result"] == "valid")


@wycheproof_vectors("ed25519_test.json")
def test_ed25519_verify(vector: dict[str, Any]) -> None:
    valid = ed25519_verify(bytes.fromhex(vector["group"]["publicKey"]["pk"]), bytes.fromhex(vector["msg"]),
                           bytes.fromhex(vector["sig"]))
    assert valid == (vector["result"] == "valid"), f"tcId {vector['tcId']}: {vector['comment']} {vector['flags']}"
