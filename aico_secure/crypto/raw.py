"""Unauthenticated block-cipher decryption, for forensic recovery only.

The stores prove that deleted data has left the disk by decrypting, with the keys, everything an attacker
holding those keys could decrypt, stale and free pages included. That needs the cipher without its
integrity check (a stale page's tag may not verify, its plaintext is still there). Never use these to read
data: they authenticate nothing.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

GCM_NONCE_BYTES = 12
AES_BLOCK = 16


def gcm_keystream_decrypt(key: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    """AES-GCM decryption without the tag: GCM encrypts with CTR starting at counter 2 for a 96-bit nonce."""
    if len(nonce) != GCM_NONCE_BYTES:
        raise ValueError("GCM keystream recovery needs a 96-bit nonce")
    decryptor = Cipher(algorithms.AES(key), modes.CTR(nonce + b"\x00\x00\x00\x02")).decryptor()
    return decryptor.update(ciphertext) + decryptor.finalize()


def cbc_decrypt_blocks(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """AES-CBC decryption of whole blocks, no padding removed (SQLCipher pages are block-aligned)."""
    usable = len(ciphertext) - len(ciphertext) % AES_BLOCK
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(ciphertext[:usable]) + decryptor.finalize()


def ctr_keystream(key: bytes, length: int) -> bytes:
    """``length`` bytes of AES-256-CTR keystream from a zero counter (a deterministic PRG for derived data)."""
    encryptor = Cipher(algorithms.AES(key), modes.CTR(b"\0" * AES_BLOCK)).encryptor()
    return encryptor.update(b"\0" * length) + encryptor.finalize()
