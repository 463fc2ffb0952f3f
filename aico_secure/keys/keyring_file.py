"""The keyring file: a versioned, self-describing JSON document, validated by a JSON schema before use.

It holds everything needed to re-derive the master key except the password (salt, KDF profile and
parameters), the data keys wrapped under key-encryption keys, a password verifier, timestamps, and a MAC
over all of it keyed from the master key. It never holds the master key or an unwrapped data key.

Format versions: 1 is the original document; 2 adds ``counters``, the rollback anchors other components seal
their own files against (``UnlockedKeyring.advance_counter``). A keyring is written as version 2 only once it
holds a counter, so keyrings that never use anchors stay readable by releases that only know version 1; both
versions are read.

Reading never blocks and never reads more than ``MAX_KEYRING_BYTES``: the file is opened non-blocking and must
be a regular file (a FIFO, device, socket or directory planted at the path is refused), and every way the bytes
can be wrong (not UTF-8, not JSON, nested too deeply, an integer too long to convert, schema, canonical form)
maps to one typed error.
"""

from __future__ import annotations

import base64
import binascii
import copy
import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

import jsonschema

from aico_secure.errors import KeyringCorruptError, KeyringNotFoundError, KeyringVersionError
from aico_secure.keys.display import shown
from aico_secure.keys.errors import KeyringIOError

FORMAT_NAME = "aico-secure-keyring"
FORMAT_VERSION = 2  # the newest version this release reads and writes
READABLE_VERSIONS = (1, 2)
BASE_VERSION = 1  # what a keyring without counters is written as
COUNTERS_VERSION = 2  # the first version with rollback counters
MAX_KEYRING_BYTES = 1 << 20
KEYRING_FILENAME = "keyring.json"

_B64 = {"type": "string", "pattern": "^[A-Za-z0-9+/]*={0,2}$"}
_TIME = {"type": "string", "minLength": 10, "maxLength": 40}
COUNTER_NAME_PATTERN = "^[a-z][a-z0-9_.:-]{0,127}$"
MAX_COUNTER = (1 << 63) - 1
SCHEMA_V1: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "format_version", "created_at", "updated_at", "kdf", "test_only", "verifier", "keks",
                 "deks", "mac"],
    "properties": {
        "format": {"const": FORMAT_NAME},
        "format_version": {"const": 1},
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


def _schema_v2() -> dict[str, Any]:
    schema = copy.deepcopy(SCHEMA_V1)
    schema["required"] = [*schema["required"], "counters"]
    schema["properties"]["format_version"] = {"const": 2}
    schema["properties"]["counters"] = {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": COUNTER_NAME_PATTERN},
        "additionalProperties": {"type": "integer", "minimum": 0, "maximum": MAX_COUNTER},
    }
    return schema


SCHEMAS: dict[int, dict[str, Any]] = {1: SCHEMA_V1, 2: _schema_v2()}
SCHEMA = SCHEMAS[FORMAT_VERSION]


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


def read_raw(path: Path) -> bytes:
    """The keyring's bytes, read without blocking and without reading more than the cap allows."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise KeyringNotFoundError(f"no keyring at {shown(path)}") from None
    except NotADirectoryError:
        raise KeyringNotFoundError(f"no keyring at {shown(path)}: a parent is not a directory") from None
    except IsADirectoryError:
        raise KeyringNotFoundError(f"{shown(path)} is a directory, not a keyring") from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket (or a FIFO with no writer on some systems)
            raise KeyringIOError(f"{shown(path)} is not a regular file, not a keyring") from None
        raise KeyringIOError(f"cannot read keyring {shown(path)}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise KeyringNotFoundError(f"{shown(path)} is a directory, not a keyring")
        if not stat.S_ISREG(mode):
            raise KeyringIOError(f"{shown(path)} is not a regular file (FIFO, device or socket), not a keyring")
        chunks: list[bytes] = []
        remaining = MAX_KEYRING_BYTES + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise KeyringIOError(f"cannot read keyring {shown(path)}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def parse_document(raw: bytes, path: Path) -> dict[str, Any]:
    """Validate a keyring file's bytes; every way they can be wrong maps to one typed error."""
    where = shown(path)
    if len(raw) > MAX_KEYRING_BYTES:
        raise KeyringCorruptError(f"keyring {where} is larger than {MAX_KEYRING_BYTES} bytes")
    if not raw.strip():
        raise KeyringCorruptError(f"keyring {where} is empty (truncated?)")
    try:
        document = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise KeyringCorruptError(f"keyring {where} is not a keyring (JSON nested too deeply)") from None
    except ValueError:  # not UTF-8, not JSON, or an integer longer than Python converts
        raise KeyringCorruptError(f"keyring {where} is not valid JSON (truncated or corrupted)") from None
    if not isinstance(document, dict):
        raise KeyringCorruptError(f"keyring {where} is not a JSON object")
    if document.get("format") != FORMAT_NAME:
        raise KeyringCorruptError(f"{where} is not an aico-secure keyring")
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise KeyringCorruptError(f"keyring {where} has no valid format_version")
    if version > FORMAT_VERSION:
        shown_version = str(version) if version < 10**6 else "(a huge number)"
        raise KeyringVersionError(
            f"keyring {where} uses format version {shown_version}, newer than this release reads "
            f"({FORMAT_VERSION}); upgrade aico-secure"
        )
    if version not in READABLE_VERSIONS:
        shown_version = str(version) if version > -(10**6) else "(a huge negative number)"
        raise KeyringVersionError(f"keyring {where} uses unknown old format version {shown_version}")
    try:
        jsonschema.validate(document, SCHEMAS[version])
    except jsonschema.ValidationError as exc:
        at = "/".join(shown(str(p)) for p in exc.absolute_path) or "(top level)"
        raise KeyringCorruptError(f"keyring {where} is malformed at {at}: {exc.validator} check failed") from None
    except RecursionError:
        raise KeyringCorruptError(f"keyring {where} is not a keyring (nested too deeply)") from None
    if raw != serialize(document):
        # The MAC covers the meaning; this covers the bytes: whitespace or key-order edits are edits too.
        raise KeyringCorruptError(f"keyring {where} is not in canonical form (edited outside aico-secure)")
    return document


def read_document(path: Path) -> dict[str, Any]:
    """Load and validate a keyring file."""
    return parse_document(read_raw(path), path)
