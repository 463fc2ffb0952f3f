"""Sync frames as a device receives them from a peer: the length prefix, the JSON message, the records list
and every record's seal.

The first byte picks what the rest is: mode 0 sends it as it is (the length prefix is fuzzed too); mode 1
sends it behind its own correct length prefix, as ``write_frame`` would, because a mutated body rarely keeps a
4-byte length right and the message parser behind it would otherwise go mostly unfuzzed.

The bytes arrive through a real socket pair (``read_frame`` reads a socket, and short reads and a peer that
closes mid-frame are part of what it parses); nothing leaves the process. After the frame, the harness does
what a device does with a push request or a pull reply: ``decode_records`` and then opening every record with
the user's sync key, through the reference build's own ``SessionSealer`` on fixed keys (``_fixed_keys``), so
sealed seeds keep authenticating across processes.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

from aico_secure.fuzz._harness._fixed_keys import fixed_keyring
from aico_secure.fuzz.interface import Harness
from aico_secure.reference.keys import ReferenceKeySession
from aico_secure.reference.tls import SessionSealer
from aico_secure.transport.errors import SyncError
from aico_secure.transport.sync import protocol
from aico_secure.transport.sync.protocol import WireRecord, decode_records, encode_records, read_frame, write_frame

MODES = 2
RAW, PREFIXED = range(MODES)


class _Capture:
    """A stand-in socket for ``write_frame`` in ``seeds``: keeps what the reference writer sends."""

    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data


class SyncFrameHarness(Harness):
    name = "sync_frame"
    surface = "one sync frame from a peer: read_frame on a socket, decode_records, each record opened by the sealer"
    refusals = (SyncError,)  # RecordAuthenticationError is a SyncError
    max_len = 64 * 1024  # below a socket pair's buffer, so the whole input is written before it is read
    timeout_s = 5
    rss_limit_mb = 2048
    dictionary = (b"\x00\x00\x00", b"\x00\x40\x00\x00", b"\x00\x40\x00\x01", b"\xff\xff\xff\xff", b'"v":1', b'"op":',
                  b'"push"', b'"pull"', b'"records":', b'"key":', b'"value":', b'"ok":true', b'"stored":', b'"error":',
                  b"[", b"]", b"{", b"}", b"==", b"AQ==", b"null", b"NaN", b"\\u0000", b"\\ud800")

    def setup(self) -> None:
        self._sealer = SessionSealer(ReferenceKeySession(fixed_keyring()))

    def run(self, data: bytes) -> None:
        mode, payload = (data[0] % MODES, data[1:]) if data else (RAW, b"")
        if mode == PREFIXED:
            payload = struct.pack(">I", len(payload)) + payload
        sender, receiver = socket.socketpair()
        try:
            receiver.settimeout(self.timeout_s)
            sender.sendall(payload)
            sender.shutdown(socket.SHUT_WR)  # then EOF: a frame cut short must be refused, not waited for
            message = read_frame(receiver)
        finally:
            sender.close()
            receiver.close()
        if "records" in message:
            for record in decode_records(message["records"]):
                self._sealer.open(record.key.encode("utf-8"), record.value)

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        sealer = SessionSealer(ReferenceKeySession(fixed_keyring()))
        records = [WireRecord(key, sealer.seal(key.encode(), value)) for key, value in
                   (("notes/1", b"first note"), ("profile", b'{"name": "a"}'), ("empty", b""))]
        messages = {
            "push": {"op": "push", "records": encode_records(records)},
            "pull": {"op": "pull"},
            "pull-reply": {"ok": True, "records": encode_records(records[:2])},
            "push-reply": {"ok": True, "stored": 3},
            "refusal": {"ok": False, "error": "record key must be 1..256 printable ASCII characters"},
        }
        for name, body in messages.items():
            capture = _Capture()
            write_frame(capture, body)  # type: ignore[arg-type]  # only sendall is used
            yield name, bytes([RAW]) + capture.data
            yield f"{name}-body", bytes([PREFIXED]) + capture.data[4:]
        yield "length-only", bytes([RAW]) + struct.pack(">I", protocol.MAX_FRAME)


HARNESS = SyncFrameHarness()
