"""The reference build's device links: a thin adapter from ``aico_secure.transport.sync`` to the contract."""

from __future__ import annotations

from pathlib import Path

from aico_secure.audit.events import AuditSink
from aico_secure.target.errors import IntegrityViolation, RejectedCredentials
from aico_secure.target.keys import KeySession
from aico_secure.target.tls import TlsIdentity, TlsPeer
from aico_secure.transport.errors import CertificateError, HandshakeError, PinMismatchError, SyncError, TlsConfigError
from aico_secure.transport.sync import Peer, RecordAuthenticationError, SyncDevice
from aico_secure.transport.tls.certs import Identity, spki_sha256

SEAL_PURPOSE = "sync"


class SessionSealer:
    """Seals sync records with the user's key session (purpose "sync"), binding each to its record key."""

    def __init__(self, session: KeySession) -> None:
        self._session = session

    def seal(self, record_key: bytes, plaintext: bytes) -> bytes:
        return self._session.seal(SEAL_PURPOSE, record_key, plaintext)

    def open(self, record_key: bytes, sealed: bytes) -> bytes:
        try:
            return self._session.open(SEAL_PURPOSE, record_key, sealed)
        except IntegrityViolation:
            raise RecordAuthenticationError(f"record {record_key[:64]!r} failed authentication") from None


class ReferenceSyncDevice:
    """Contract view of a ``SyncDevice``: maps transport errors onto the contract's refusals."""

    def __init__(self, device: SyncDevice) -> None:
        self.device = device

    def __repr__(self) -> str:
        return f"ReferenceSyncDevice({self.device!r})"

    def put(self, key: str, value: bytes) -> None:
        try:
            self.device.put(key, value)
        except SyncError as exc:
            raise ValueError(str(exc)) from None

    def get(self, key: str) -> bytes | None:
        try:
            return self.device.get(key)
        except RecordAuthenticationError as exc:
            raise IntegrityViolation(str(exc)) from None

    def keys(self) -> list[str]:
        return self.device.keys()

    def serve(self, *, handshake_timeout: float = 10.0) -> tuple[str, int]:
        return self.device.serve(handshake_timeout=handshake_timeout)

    @staticmethod
    def _peer(peer: TlsPeer) -> Peer:
        return Peer(peer.host, peer.port, peer.server_name, peer.ca_pem, tuple(peer.pins))

    def push(self, peer: TlsPeer) -> int:
        try:
            return self.device.push(self._peer(peer))
        except (HandshakeError, PinMismatchError, TlsConfigError) as exc:
            raise RejectedCredentials(str(exc)) from None
        except SyncError as exc:
            raise IntegrityViolation(str(exc)) from None

    def pull(self, peer: TlsPeer) -> int:
        try:
            return self.device.pull(self._peer(peer))
        except (HandshakeError, PinMismatchError, TlsConfigError) as exc:
            raise RejectedCredentials(str(exc)) from None
        except SyncError as exc:
            raise IntegrityViolation(str(exc)) from None

    def close(self) -> None:
        self.device.close()

    def key_files(self) -> list[Path]:
        """Test hook (``SyncKeyFilesHook``): ``tls/device.key``, the one file ``SyncDevice`` writes its key to
        (``write_identity``); the certificate and the peer CA beside it are public."""
        path = self.device.directory / "tls" / "device.key"
        return [path] if path.is_file() else []


class ReferenceTls:
    """Opens reference sync devices."""

    device_class: type[SyncDevice] = SyncDevice

    def open_device(self, directory: Path, session: KeySession, *, identity: TlsIdentity, peer_ca_pem: bytes,
                    audit: AuditSink | None = None) -> ReferenceSyncDevice:
        try:
            ident = Identity(identity.cert_pem, identity.key_pem, spki_sha256(identity.cert_pem))
        except CertificateError as exc:
            raise ValueError(str(exc)) from None
        try:
            device = self.device_class(directory, SessionSealer(session), ident, peer_ca_pem, audit)
        except SyncError as exc:  # its record file is damaged
            raise IntegrityViolation(str(exc)) from None
        return ReferenceSyncDevice(device)
