"""Detached Ed25519 signatures over a report, so an auditor can show a report is the one that was signed.

What is signed is the report's canonical form (RFC 8785 JSON canonicalization, via the ``rfc8785`` library), not
its bytes on disk: re-indenting a report does not break its signature, while any change to what it says (a
changed byte of a value, a swapped verdict, a removed requirement) does. The signature file names the
algorithm, the canonicalization, the SHA-256 of the signed form and the signing key's id (the SHA-256 of its raw
public key), so a verifier can say *which* of those failed.

Signing keys are PKCS#8 PEM files readable by their owner only; a key file others can read is refused, because
whoever else can read it can sign.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from aico_secure.crypto.ed25519 import ed25519_sign, ed25519_verify

ALGORITHM = "Ed25519"
CANONICALIZATION = "RFC8785"
MAX_REPORT_BYTES = 256 << 20  # a report larger than this is refused, not read into memory
MAX_KEY_BYTES = 64 << 10


class SigningError(Exception):
    """A report, key or signature that cannot be read or used (exit 2); never a verdict on the report."""


@dataclass(frozen=True)
class Verdict:
    intact: bool
    reason: str  # one line: why it is not intact, or who signed it


def _read(path: Path, limit: int, what: str) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise SigningError(f"{what} {path} is not a regular file")
        if info.st_size > limit:
            raise SigningError(f"{what} {path} is larger than {limit} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def canonical(report: bytes) -> bytes:
    """The RFC 8785 form of a JSON report."""
    try:
        document: Any = json.loads(report)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SigningError(f"the report is not JSON: {exc}") from None
    try:
        return bytes(rfc8785.dumps(document))
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise SigningError(f"the report cannot be canonicalized: {exc}") from None


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:32]


def generate(private_path: Path, public_path: Path) -> str:
    """A new key pair: the private key as owner-only PKCS#8 PEM (created exclusively, never overwritten), the
    public key as SubjectPublicKeyInfo PEM. Returns the key id."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise SigningError(f"cannot create {private_path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public = key.public_key()
    public_path.write_bytes(public.public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo))
    return key_id(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def load_private(path: Path) -> Ed25519PrivateKey:
    data = _read(path, MAX_KEY_BYTES, "signing key")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise SigningError(f"signing key {path} is readable by others: make it owner-only (chmod 600)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"signing key {path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"signing key {path} is not an Ed25519 key")
    return key


def load_public(path: Path) -> bytes:
    data = _read(path, MAX_KEY_BYTES, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"public key {path} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"public key {path} is not an Ed25519 key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(report_path: Path, private_key: Ed25519PrivateKey) -> dict[str, str]:
    """The detached signature document for the report at ``report_path``."""
    signed = canonical(_read(report_path, MAX_REPORT_BYTES, "report"))
    public = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"algorithm": ALGORITHM, "canonicalization": CANONICALIZATION,
            "sha256": hashlib.sha256(signed).hexdigest(), "key_id": key_id(public),
            "signature": base64.b64encode(ed25519_sign(private_key, signed)).decode()}


def verify(report_path: Path, signature_path: Path, public_key: bytes) -> Verdict:
    """Whether the report is the one the holder of ``public_key`` signed. Unreadable inputs raise
    ``SigningError``; everything else is a verdict."""
    signed = canonical(_read(report_path, MAX_REPORT_BYTES, "report"))
    try:
        document = json.loads(_read(signature_path, MAX_KEY_BYTES, "signature"))
        algorithm, canon = document["algorithm"], document["canonicalization"]
        signature = base64.b64decode(document["signature"], validate=True)
        digest, signer = str(document["sha256"]), str(document["key_id"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise SigningError(f"signature {signature_path} is not a signature document: {exc}") from None
    if (algorithm, canon) != (ALGORITHM, CANONICALIZATION):
        raise SigningError(f"signature {signature_path} uses {algorithm}/{canon}; only "
                           f"{ALGORITHM}/{CANONICALIZATION} is known")
    if signer != key_id(public_key):
        return Verdict(False, f"signed by key {signer}, not by the given key {key_id(public_key)}")
    if digest != hashlib.sha256(signed).hexdigest():
        return Verdict(False, "the report's content differs from what was signed")
    if not ed25519_verify(public_key, signed, signature):
        return Verdict(False, "the signature does not verify")
    return Verdict(True, f"signed by key {signer}")


SIGNING_PURPOSE = "report-signing"


def keyring_private(directory: Path, password: str) -> Ed25519PrivateKey:
    """The signing key held in an AICO keyring: the keyring's random data key for "report-signing", used as the
    Ed25519 seed. It is stored only wrapped, so it survives password changes and master-key rotation and
    changes only when that purpose's data key is rotated (``aico-secure keyring rotate DIR --dek
    report-signing``): an auditor keeps one public key across a release's life."""
    from aico_secure.errors import KeyringError
    from aico_secure.keys.keyring import Keyring

    try:
        unlocked = Keyring.unlock(Keyring.path_in(directory), password)
        seed = unlocked.active_data_key(SIGNING_PURPOSE).secret.reveal()
    except KeyringError as exc:
        raise SigningError(f"cannot take the signing key from the keyring in {directory}: {exc}") from None
    except OSError as exc:
        raise SigningError(f"cannot read the keyring in {directory}: {exc.strerror or exc}") from None
    return Ed25519PrivateKey.from_private_bytes(seed)


def write_public(key: Ed25519PrivateKey, path: Path) -> str:
    """Write the public half (PEM) for verifiers; returns its key id."""
    public = key.public_key()
    path.write_bytes(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key_id(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
