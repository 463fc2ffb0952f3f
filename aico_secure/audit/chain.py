"""The on-disk shape of the audit log: one text line per entry, each entry MACed and chained to the previous.

Why lines: a damaged or forged entry spoils exactly one line, so verification can keep reading and locate every
other problem instead of losing its place. Why the previous MAC on every line: each entry can be authenticated
on its own (was this written by the holder of the audit key, for this log, as entry ``seq``?) and the chain
link checked separately, which is what lets ``verify`` tell a modified entry from a deleted, moved or inserted
one.

Layout of ``audit.log``::

    AICO-AUDIT/1 <log id, 32 hex> <MAC key id, 16 hex> <header MAC, 64 hex>
    <seq> <MAC key id, 16 hex> <previous entry's MAC, 64 hex> <body, base64url> <MAC, 64 hex>
    ...

``MAC = HMAC-SHA256(audit MAC key, "aico-audit/entry" 0x00 | log id | seq (8 bytes) | previous MAC | key id |
body)``. The first entry's previous MAC is the log's genesis value, a MAC of its id. The MAC key is a random data
key of the hierarchy (purpose ``audit-mac``), so it survives password changes and master-key rotation. Labels
keep the header, entry, genesis and checkpoint MACs apart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass

from aico_secure.envelope import DataKey

MAGIC = b"AICO-AUDIT/1"
HEADER_PREFIX = b"AICO-AUDIT/"  # any version: a header line, even one this release cannot read
LOG_ID_BYTES = 16
KEY_ID_BYTES = 8
MAC_BYTES = 32
MAX_SEQ = 2**63 - 1
MAX_LINE_BYTES = 1 << 20  # an event is identifiers and counts; a longer line is not one of ours

_HEADER_LABEL = b"aico-audit/header\x00"
_GENESIS_LABEL = b"aico-audit/genesis\x00"
_ENTRY_LABEL = b"aico-audit/entry\x00"
_CHECKPOINT_LABEL = b"aico-audit/checkpoint\x00"
_SEQ = re.compile(rb"^[1-9][0-9]{0,18}$")
_B64URL = re.compile(rb"^[A-Za-z0-9_-]*={0,2}$")


def _hmac(key: DataKey, *parts: bytes) -> bytes:
    return hmac.new(key.secret.reveal(), b"".join(parts), hashlib.sha256).digest()


def header_mac(key: DataKey, log_id: bytes) -> bytes:
    return _hmac(key, _HEADER_LABEL, log_id, key.key_id)


def genesis(key: DataKey, log_id: bytes) -> bytes:
    """The "previous MAC" of entry 1: ties the first entry to this log."""
    return _hmac(key, _GENESIS_LABEL, log_id)


def entry_mac(key: DataKey, log_id: bytes, seq: int, prev: bytes, body: bytes) -> bytes:
    return _hmac(key, _ENTRY_LABEL, log_id, struct.pack(">Q", seq), prev, key.key_id, body)


def checkpoint_mac(key: DataKey, log_id: bytes, count: int, head: bytes) -> bytes:
    return _hmac(key, _CHECKPOINT_LABEL, log_id, struct.pack(">Q", count), head, key.key_id)


def same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


@dataclass(frozen=True)
class Header:
    log_id: bytes
    key_id: bytes
    mac: bytes

    def encode(self) -> bytes:
        fields = [MAGIC, self.log_id.hex().encode(), self.key_id.hex().encode(), self.mac.hex().encode()]
        return b" ".join(fields) + b"\n"


@dataclass(frozen=True)
class EntryLine:
    """One entry as stored. ``body`` is the codec's output (sealed or not); nothing here is trusted until the
    MAC has been checked."""

    seq: int
    key_id: bytes
    prev: bytes
    body: bytes
    mac: bytes

    def encode(self) -> bytes:
        fields = [str(self.seq).encode(), self.key_id.hex().encode(), self.prev.hex().encode(),
                  base64.urlsafe_b64encode(self.body), self.mac.hex().encode()]
        return b" ".join(fields) + b"\n"


def _hex(field: bytes, size: int) -> bytes | None:
    if len(field) != 2 * size:
        return None
    try:
        return bytes.fromhex(field.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None


def parse_header(line: bytes) -> Header | None:
    """The header, or None for anything that is not exactly one (a parse result is never an error: the caller
    reports where the damage is)."""
    parts = line.rstrip(b"\n").split(b" ")
    if len(parts) != 4 or parts[0] != MAGIC:
        return None
    log_id, key_id, mac = _hex(parts[1], LOG_ID_BYTES), _hex(parts[2], KEY_ID_BYTES), _hex(parts[3], MAC_BYTES)
    if log_id is None or key_id is None or mac is None:
        return None
    header = Header(log_id, key_id, mac)
    return header if header.encode() == line else None  # one spelling only: "A" for "a" is an edit too


def parse_entry(line: bytes) -> EntryLine | None:
    """An entry line split into its fields, or None when the line is not well formed."""
    if len(line) > MAX_LINE_BYTES or not line.endswith(b"\n"):
        return None
    parts = line[:-1].split(b" ")
    if len(parts) != 5 or not _SEQ.match(parts[0]) or not _B64URL.match(parts[3]) or len(parts[3]) % 4:
        return None
    seq = int(parts[0])
    key_id, prev, mac = _hex(parts[1], KEY_ID_BYTES), _hex(parts[2], MAC_BYTES), _hex(parts[4], MAC_BYTES)
    if seq > MAX_SEQ or key_id is None or prev is None or mac is None:
        return None
    try:
        body = base64.urlsafe_b64decode(parts[3])
    except (binascii.Error, ValueError):
        return None
    entry = EntryLine(seq, key_id, prev, body, mac)
    # Canonical form only: upper-case hex or non-zero base64 padding bits decode to the same fields, but
    # they are still bytes someone changed, and a tamper-evident log must not accept any change.
    return entry if entry.encode() == line else None
