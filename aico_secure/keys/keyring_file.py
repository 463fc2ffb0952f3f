"""The keyring file: a versioned, self-describing JSON document, validated by a JSON schema before use.

It holds everything needed to re-derive the master key except the password (salt, KDF profile and
parameters), the data keys wrapped under key-encryption keys, a password verifier, timestamps, and a MAC
over all of it keyed from the master key. It never holds the master key or an unwrapped data key.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

import jsonschema

from aico_secure.errors import KeyringCorruptError, KeyringNotFoundError, KeyringVersionError

FORMAT_NAME = "aico-secure-keyring"
FORMAT_VERSION = 1
MAX_KEYRING_BYTES = 1 << 20
KEYRING_FILENAME = "keyring.json"

_B64 = {"type": "string", "pattern": "^[A-Za-z0-9+/]*={0,2}$"}
_TIME = {"type": "string", "minLength": 10, "maxLength": 40}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "format_version", "created_at", "updated_at", "kdf", "test_only", "verifier", "keks",
                 "deks", "mac"],
    "properties": {
        "format": {"const": FORMAT_NAME},
        "format_version": {"const": FORMAT_VERSION},
        "created_at": _TIME,
        "updated_at": _TIME,
        "warning": {"type": "string"},
        "test_only": {"type": "boolean"},
        "kdf": {
            "type": "object",
            "additionalProperties": False,
            "required": ["algorithm", "version", "profile", "time_cost", "memory_kib", "parallelism", "salt"],
            "properties": {
                "algorithm": {"const": "argon2id"},
                "version": {"const": 19},
                "profile": {"enum": ["production", "test"]},
                "time_cost": {"type": "integer", "minimum": 1},
                "memory_kib": {"type": "integer", "minimum": 8},
                "parallelism": {"type": "integer", "minimum": 1},
                "salt": _B64,
            },
        },
        "verifier": _B64,
        "keks": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}},
        "deks": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "wrapped", "created_at", "active"],
                    "properties": {
                        "id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
                        "wrapped": _B64,
                        "created_at": _TIME,
                        "active": {"type": "boolean"},
                    },
                },
            },
        },
        "mac": _B64,
    },
}


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringCorruptError(f"keyring field {what} is not valid base64") from None


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """The bytes the keyring MAC covers: every field but ``mac``, in a canonical JSON encoding."""
    body = {k: v for k, v in document.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def serialize(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode()


def read_document(path: Path) -> dict[str, Any]:
    """Load and validate a keyring file; every way it can be wrong maps to one typed error."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_KEYRING_BYTES + 1)
    except FileNotFoundError:
        raise KeyringNotFoundError(f"no keyring at {path}") from None
    except IsADirectoryError:
        raise KeyringNotFoundError(f"{path} is a directory, not a keyring") from None
    if len(raw) > MAX_KEYRING_BYTES:
        raise KeyringCorruptError(f"keyring {path} is larger than {MAX_KEYRING_BYTES} bytes")
    if not raw.strip():
        raise KeyringCorruptError(f"keyring {path} is empty (truncated?)")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeyringCorruptError(f"keyring {path} is not valid JSON (truncated or corrupted)") from None
    if not isinstance(document, dict):
        raise KeyringCorruptError(f"keyring {path} is not a JSON object")
    if document.get("format") != FORMAT_NAME:
        raise KeyringCorruptError(f"{path} is not an aico-secure keyring")
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise KeyringCorruptError(f"keyring {path} has no valid format_version")
    if version > FORMAT_VERSION:
        raise KeyringVersionError(
            f"keyring {path} uses format version {version}, newer than this release reads ({FORMAT_VERSION}); "
            "upgrade aico-secure"
        )
    if version < FORMAT_VERSION:
        raise KeyringVersionError(f"keyring {path} uses unknown old format version {version}")
    try:
        jsonschema.validate(document, SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise KeyringCorruptError(f"keyring {path} is malformed at {where}: {exc.validator} check failed") from None
    if raw != serialize(document):
        # The MAC covers the meaning; this covers the bytes: whitespace or key-order edits are edits too.
        raise KeyringCorruptError(f"keyring {path} is not in canonical form (edited outside aico-secure)")
    return document
