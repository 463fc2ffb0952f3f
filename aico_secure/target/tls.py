"""The capability contract for TLS 1.3 device links and federated device sync.

What the suite does with it: it runs its own small PKI, hands each build device a certificate and the CA whose
peers it must accept, and then

* connects to a device's sync server with its *own* ``ssl`` clients (protocol versions, no client certificate,
  expired or foreign client certificates, garbage, half-open handshakes);
* points a device's client at servers the suite controls (a TLS 1.2-only server, a man in the middle with a
  trusted but unpinned certificate, expired and wrong-host certificates) and checks the device refuses them
  before sending a byte of application data;
* puts a TLS-terminating relay it controls between two devices (the devices are told to pin the relay, which
  is how the suite consents to see inside the channel) to check that records are sealed at the application
  layer too.

Only the record *values* are confidential in transit; record keys are identifiers and may be visible.

Trust: a peer's ``ca_pem`` (and, for the sync server, ``peer_ca_pem``) is the only trust anchor; the suite runs
devices with ``SSL_CERT_FILE``/``SSL_CERT_DIR`` pointing at a CA it controls to check that the platform's default
store is never consulted.

Key files (optional hook ``SyncKeyFilesHook``): a device that offers it lets the suite check that every file
holding its private key is owner-only and that the key is in no *other* file the build writes, anywhere. A
device without it has those checks reported "not implemented", which fails the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from aico_secure.audit.events import AuditSink
from aico_secure.sensitive import SecretBytes
from aico_secure.target.keys import KeySession


@dataclass(frozen=True)
class TlsIdentity:
    """A device's certificate (PEM) and private key (PEM, PKCS#8 or SEC1, unencrypted). The certificate is
    valid for both TLS server and TLS client authentication."""

    cert_pem: bytes = field(repr=False)
    key_pem: SecretBytes = field(repr=False)


@dataclass(frozen=True)
class TlsPeer:
    """Where a device reaches a peer and how it recognises it (the pairing data)."""

    host: str  # address to connect to (127.0.0.1 in the suite)
    port: int
    server_name: str  # the name the peer's certificate must be valid for (SNI and host-name check)
    ca_pem: bytes = field(repr=False)  # the only trust anchor for this peer; never the system store
    pins: tuple[str, ...] = ()  # lowercase hex SHA-256 of the DER SubjectPublicKeyInfo of acceptable keys


@runtime_checkable
class SyncDevice(Protocol):
    """One device of a user: a local record store that syncs with peers over mutual TLS 1.3."""

    def put(self, key: str, value: bytes) -> None:
        """Store a record locally (the value is sealed with the device's key session)."""

    def get(self, key: str) -> bytes | None: ...

    def keys(self) -> list[str]: ...

    def serve(self, *, handshake_timeout: float = 10.0) -> tuple[str, int]:
        """Start (once) this device's sync server on 127.0.0.1, TLS 1.3 only, requiring a client certificate
        issued by the peer CA given to ``open_device``. A connection that has not finished its handshake
        within ``handshake_timeout`` seconds is dropped. Returns (host, port)."""

    def push(self, peer: TlsPeer) -> int:
        """Send every local record to ``peer``; returns how many it stored. Raises ``RejectedCredentials``
        when the peer cannot be authenticated (TLS version, chain, host name, validity, pin, or no pins at
        all) without having sent any application data; ``IntegrityViolation`` when the exchange is malformed
        or the peer refuses the records."""

    def pull(self, peer: TlsPeer) -> int:
        """Fetch the peer's records and store them locally; returns how many. Same refusals as ``push``; a
        record that does not authenticate under this device's keys is refused and nothing is stored."""

    def close(self) -> None:
        """Stop the server (if started) and release everything; the suite always calls it."""


@runtime_checkable
class TlsCapability(Protocol):
    def open_device(self, directory: Path, session: KeySession, *, identity: TlsIdentity, peer_ca_pem: bytes,
                    audit: AuditSink | None = None) -> SyncDevice:
        """Open (creating if needed) a device in the empty ``directory``. ``session`` holds the user's keys,
        shared by all of the user's devices; records are sealed with it. ``peer_ca_pem`` is the CA whose
        client certificates the device's server accepts. Private key files it writes must be mode 0600."""


@runtime_checkable
class SyncKeyFilesHook(Protocol):
    """Optional test hook of a ``SyncDevice``: the files that hold its private key.

    Why: the device's private key is what its peers pin and what authenticates it as a client (AICO-TLS-002,
    AICO-TLS-004); a copy in a stray file (a temp file some API wanted a path for, a cache) lets anyone who reads
    it be this device. The suite knows the key (it issued ``TlsIdentity.key_pem``); it needs the build to say
    which files are meant to hold it. Like every test hook it must tell the truth.
    """

    def key_files(self) -> list[Path]:
        """Every file that holds this device's private key now, in any form (PEM, DER, wrapped), wherever it is;
        ``[]`` if the device keeps it in memory only. Each must be owner-only (no group or other permission
        bits, e.g. mode 0600) in directories that are owner-only too (e.g. 0700), from the file up to the
        ``directory`` given to ``open_device``. The key found in any file written that is not listed here (nor
        an earlier version of one that was) is a finding."""
