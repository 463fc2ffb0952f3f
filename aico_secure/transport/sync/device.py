"""A device of one user, syncing sealed records with its peers over mutual TLS 1.3 with SPKI pinning.

Two layers protect a record in transit: the TLS channel (authenticated both ways, pinned, forward secret) and
the record's own seal (AES-GCM under the user's data key, bound to the record key). The second layer is why a
relay, a compromised TLS endpoint or a mis-pinned peer still sees only ciphertext, and why a device refuses a
record that does not open under its keys instead of storing whatever arrived.

A push or pull is all-or-nothing: every incoming record is authenticated before any is stored.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aico_secure.audit.events import AuditSink
from aico_secure.transport.errors import SyncError
from aico_secure.transport.sync.protocol import (
    WireRecord,
    decode_records,
    encode_records,
    read_frame,
    valid_key,
    write_frame,
)
from aico_secure.transport.sync.records import RecordFile
from aico_secure.transport.sync.server import SyncServer
from aico_secure.transport.tls.certs import Identity, write_identity
from aico_secure.transport.tls.contexts import client_context_pem, connect_pinned, server_context

CLIENT_TIMEOUT = 5.0


class RecordAuthenticationError(SyncError):
    """A record did not open under this device's keys (tampered, from another user, or bound to another key)."""


class Sealer(Protocol):
    """Application-level record encryption, e.g. the user's key session for purpose "sync"."""

    def seal(self, record_key: bytes, plaintext: bytes) -> bytes: ...

    def open(self, record_key: bytes, sealed: bytes) -> bytes:
        """Raise ``RecordAuthenticationError`` for anything that does not authenticate."""


@dataclass(frozen=True)
class Peer:
    host: str
    port: int
    server_name: str
    ca_pem: bytes = field(repr=False)
    pins: tuple[str, ...] = ()


class SyncDevice:
    """Local sealed records plus a sync server and client. Files under ``directory``: ``records.json`` and
    ``tls/`` (device certificate, its key with mode 0600, and the peer CA)."""

    server_class: type[SyncServer] = SyncServer
    record_file_class: type[RecordFile] = RecordFile

    def __init__(self, directory: Path, sealer: Sealer, identity: Identity, peer_ca_pem: bytes,
                 audit: AuditSink | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory = directory
        self._sealer = sealer
        self._audit = audit
        self._records = self.record_file_class(directory)
        self._cert, self._key = write_identity(identity, directory / "tls", "device")
        self._peer_ca = directory / "tls" / "peer-ca.crt"
        self._peer_ca.write_bytes(peer_ca_pem)
        self._server: SyncServer | None = None

    def __repr__(self) -> str:
        return f"SyncDevice({self.directory.name!r}, serving={self._server is not None})"

    # ---- local records ----------------------------------------------------------------------------------------
    def put(self, key: str, value: bytes) -> None:
        if not valid_key(key):
            raise SyncError("record key must be 1..256 printable ASCII characters")
        self._records.put_many({key: self._sealer.seal(key.encode("utf-8"), value)})

    def get(self, key: str) -> bytes | None:
        sealed = self._records.get(key)
        return None if sealed is None else self._sealer.open(key.encode("utf-8"), sealed)

    def keys(self) -> list[str]:
        return [k for k, _v in self._records.items()]

    # ---- what crosses the wire (overridable in one place) -----------------------------------------------------
    def _outgoing(self) -> list[WireRecord]:
        return [WireRecord(k, v) for k, v in self._records.items()]

    def _accept_incoming(self, records: list[WireRecord]) -> dict[str, bytes]:
        """Authenticate every incoming record; return what to store (sealed values), or raise for the batch."""
        for record in records:
            self._sealer.open(record.key.encode("utf-8"), record.value)
        return {r.key: r.value for r in records}

    # ---- server -----------------------------------------------------------------------------------------------
    def _server_context(self) -> ssl.SSLContext:
        return server_context(self._cert, self._key, client_ca_path=self._peer_ca)

    def serve(self, *, handshake_timeout: float = 10.0) -> tuple[str, int]:
        if self._server is None:
            self._server = self.server_class(self._server_context(), self._handle,
                                             handshake_timeout=handshake_timeout, audit=self._audit)
        return self._server.address

    def _handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "push":
            incoming = self._accept_incoming(decode_records(request.get("records")))
            self._records.put_many(incoming)
            return {"ok": True, "stored": len(incoming)}
        if op == "pull":
            return {"ok": True, "records": encode_records(self._outgoing())}
        raise SyncError("unknown operation")

    # ---- client -----------------------------------------------------------------------------------------------
    def _client_context(self, peer: Peer) -> ssl.SSLContext:
        return client_context_pem(peer.ca_pem, cert_path=self._cert, key_path=self._key)

    def _connect(self, peer: Peer) -> ssl.SSLSocket:
        """Handshake and pin check before any application byte (``HandshakeError``/``PinMismatchError``)."""
        return connect_pinned(peer.host, peer.port, self._client_context(peer), peer.pins,
                              server_hostname=peer.server_name, timeout=CLIENT_TIMEOUT)

    def _exchange(self, peer: Peer, request: dict[str, Any]) -> dict[str, Any]:
        with self._connect(peer) as tls:
            tls.settimeout(CLIENT_TIMEOUT)
            write_frame(tls, request)
            response = read_frame(tls)
        if response.get("ok") is not True:
            raise SyncError(f"peer refused: {str(response.get('error', 'no reason'))[:200]}")
        return response

    def push(self, peer: Peer) -> int:
        response = self._exchange(peer, {"op": "push", "records": encode_records(self._outgoing())})
        stored = response.get("stored")
        if not isinstance(stored, int) or stored < 0:
            raise SyncError("peer sent a malformed push reply")
        return stored

    def pull(self, peer: Peer) -> int:
        response = self._exchange(peer, {"op": "pull"})
        incoming = self._accept_incoming(decode_records(response.get("records")))
        self._records.put_many(incoming)
        return len(incoming)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
