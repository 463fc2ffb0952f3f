"""What key material and secret-bearing names look like, shared by the plugins and the scanner's masking.

A 32-byte key shows up as 40 Z85 characters (CurveZMQ's text form), 64 hex digits, 44 base64 characters or a
32-byte bytes literal. Shape alone also matches commit hashes and placeholders, so a value only counts when it is
varied enough to be random and is not a path or URL.
"""

from __future__ import annotations

import re

Z85_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
_Z85 = re.escape(Z85_ALPHABET)
_Z85_KEY = re.compile(f"[{_Z85}]{{40}}")
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_B64_KEY = re.compile(r"[A-Za-z0-9+/_-]{43}=")
# A key-shaped token anywhere in a line (for masking): Z85 runs of exactly 40, hex of 64, base64 of 44.
KEY_TOKEN = re.compile(f"(?<![{_Z85}])[{_Z85}]{{40}}(?![{_Z85}])|(?<![0-9a-fA-F])[0-9a-fA-F]{{64}}(?![0-9a-fA-F])"
                       r"|(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{43}=")


def _varied(text: str, minimum: int) -> bool:
    return len(set(text)) >= minimum


def key_shaped(value: str | bytes) -> bool:
    """Whether a literal looks like a 32-byte key in one of its usual encodings."""
    if isinstance(value, bytes):
        if len(value) == 32:
            return _varied(value.decode("latin-1"), 8)
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return False
    if value.startswith(("/", "./", "~")) or "://" in value or value.count("/") >= 3:
        return False
    if _Z85_KEY.fullmatch(value):
        classes = sum(any(pred(c) for c in value) for pred in (str.islower, str.isupper, str.isdigit))
        return classes >= 2 and _varied(value, 16)
    if _HEX_KEY.fullmatch(value):
        return _varied(value, 8)
    if _B64_KEY.fullmatch(value):
        return _varied(value, 16)
    return False


def parts(name: str) -> set[str]:
    """The words of an identifier: ``adminPassword_hash`` -> {"admin", "password", "hash"}."""
    return {p.lower() for p in re.split(r"_|(?<=[a-z0-9])(?=[A-Z])", name) if p}


_NOT_SECRET = {"public", "pub", "path", "file", "dir", "id", "name", "url", "len", "size", "type"}


def secret_key_name(name: str | None) -> bool:
    """A name that holds a secret or private key (not its public half, its path or its id)."""
    if not name:
        return False
    lowered = name.lower()
    if parts(name) & _NOT_SECRET:
        return False
    return ("secret" in lowered or "private" in lowered or lowered in {"sk", "csk", "ssk"}
            or lowered.endswith("_sk") or lowered.startswith("sk_"))


_KEYISH_EXACT = {"key", "secret", "dek", "kek", "master_key", "masterkey", "mk", "data_key", "password", "passphrase"}
_KEYISH_SUFFIX = ("_key", "_secret", "_dek", "_kek", "_password", "_passphrase")
# *_key names that are not secrets: identifiers, lookups and the public half of a pair; wrapped or sealed key
# material is ciphertext and may be stored.
_NOT_KEY_MATERIAL = {
    "public", "pub", "cache", "sort", "primary", "foreign", "partition", "row", "lookup", "dict", "map",
    "idempotency", "column", "group", "wrapped", "sealed", "encrypted", "enc", "id", "name", "path", "file",
    "hash", "digest", "fingerprint", "len", "size", "type",
}


def key_material_name(name: str | None) -> bool:
    """A name that holds raw key material: ``master_key``, ``*_key``, ``secret``, ``dek``, ``kek``."""
    if not name:
        return False
    lowered = name.lower().lstrip("_")
    if parts(name) & _NOT_KEY_MATERIAL:
        return False
    return lowered in _KEYISH_EXACT or lowered.endswith(_KEYISH_SUFFIX) or lowered.startswith("secret")


_SECRET_WORDS = (
    "token", "password", "passwd", "passphrase", "pwd", "secret", "credential", "api_key", "apikey", "authorization",
)
# Words that make a secret-sounding name mean something about the secret rather than the secret itself.
_NOT_SECRET_VALUE = {
    "id", "type", "name", "len", "count", "expiry", "expires", "exp", "expiration", "ttl", "url", "uri", "path",
    "file", "hash", "digest", "fingerprint", "policy", "field", "prefix", "kind", "length", "public", "pub",
    "required", "is", "has", "at", "endpoint", "scope", "reset", "min", "max", "strength", "tokenizer",
    "tokenizers", "num", "limit", "usage", "budget", "bucket", "hint", "changed", "updated",
}


def secret_value_name(name: str | None) -> bool:
    """A name that holds a token, password or key itself (``access_token``, ``password``, ``master_key``), not
    something about it (``token_type``, ``password_hash``, ``key_id``)."""
    if not name:
        return False
    lowered = name.lower().lstrip("_")
    if lowered == "key" or parts(name) & _NOT_SECRET_VALUE:
        return False  # a bare ``key`` is as often a dict key as a cryptographic one
    return any(word in lowered for word in _SECRET_WORDS) or key_material_name(lowered)
