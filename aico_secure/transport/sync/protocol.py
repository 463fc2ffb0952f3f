"""The sync wire format inside TLS: length-prefixed JSON frames, each value already sealed by the sender.

Why JSON with base64 values: the protocol is tiny (push, pull), easy to read in a capture, and its bounds are
simple to enforce: every frame is at most ``MAX_FRAME`` bytes and at most ``MAX_RECORDS`` records, checked
before anything is decoded further. Record keys travel readable; record values are sealed envelopes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import socket
import ssl
import struct
from dataclasses import dataclass
from typing import Any

from aico_secure.transport.errors import SyncError

VERSION = 1
MAX_FRAME = 4 << 20
MAX_RECORDS = 10_000
_KEY = re.compile(r"[\x21-\x7e]{1,256}")
_HEADER = struct.Struct(">I")


@dataclass(frozen=True)
class WireRecord:
    key: str
    value: bytes  # a sealed envelope in the reference build


def _recv_exact(sock: socket.socket | ssl.SSLSocket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        try:
            chunk = sock.recv(min(n - len(data), 65536))
        except (OSError, ssl.SSLError) as exc:
            raise SyncError(f"connection failed while reading: {type(exc).__name__}") from None
        if not chunk:
            raise SyncError("connection closed in the middle of a frame")
        data += chunk
    return bytes(data)


def read_frame(sock: socket.socket | ssl.SSLSocket) -> dict[str, Any]:
    (length,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if length == 0 or length > MAX_FRAME:
        raise SyncError(f"frame length {length} outside 1..{MAX_FRAME}")
    try:
        body = json.loads(_recv_exact(sock, length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: arrays or objects nested too deep
        raise SyncError("frame is not UTF-8 JSON") from None
    if not isinstance(body, dict) or body.get("v") != VERSION:
        raise SyncError("frame is not a version-1 sync message")
    return body


def write_frame(sock: socket.socket | ssl.SSLSocket, body: dict[str, Any]) -> None:
    data = json.dumps({"v": VERSION, **body}, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_FRAME:
        raise SyncError(f"message of {len(data)} bytes exceeds the {MAX_FRAME}-byte frame limit")
    try:
        sock.sendall(_HEADER.pack(len(data)) + data)
    except (OSError, ssl.SSLError) as exc:
        raise SyncError(f"connection failed while writing: {type(exc).__name__}") from None


def encode_records(records: list[WireRecord]) -> list[dict[str, str]]:
    return [{"key": r.key, "value": base64.b64encode(r.value).decode("ascii")} for r in records]


def decode_records(raw: object) -> list[WireRecord]:
    """Validate a records list from a peer; ``SyncError`` for anything out of shape or bounds."""
    if not isinstance(raw, list) or len(raw) > MAX_RECORDS:
        raise SyncError(f"records must be a list of at most {MAX_RECORDS}")
    out = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"key", "value"}:
            raise SyncError("each record must have exactly 'key' and 'value'")
        key, value = item["key"], item["value"]
        if not isinstance(key, str) or not _KEY.fullmatch(key) or not isinstance(value, str):
            raise SyncError("record key must be 1..256 printable ASCII characters; value base64 text")
        try:
            out.append(WireRecord(key, base64.b64decode(value, validate=True)))
        except (binascii.Error, ValueError):
            raise SyncError("record value is not base64") from None
    if len({r.key for r in out}) != len(out):
        raise SyncError("duplicate record keys")
    return out


def valid_key(key: str) -> bool:
    return isinstance(key, str) and _KEY.fullmatch(key) is not None
