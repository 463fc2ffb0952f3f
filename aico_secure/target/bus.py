"""The capability contract for the CurveZMQ message bus.

What the suite does with it: start the build's broker in a temporary directory, have the build enroll
components with topic grants, then talk to the broker with its *own* pyzmq sockets (CURVE, NULL, PLAIN, unlisted
keys, the wrong server key, raw garbage) and watch what gets through.

Wire protocol a build must speak (plain ZeroMQ, ZMTP 3.x):

* Components publish with a ``PUB`` socket connected to ``publish_endpoint`` and receive with a ``SUB`` socket
  connected to ``subscribe_endpoint`` (the broker side is XSUB/XPUB or anything wire-compatible with it).
* Both endpoints are CURVE servers with public key ``server_key``; a client sets ``curve_serverkey`` to it and
  its own key pair from ``enroll``.
* A bus message is exactly two frames: topic, payload. A topic is ASCII ``segment(.segment)*`` with
  ``[a-z0-9_-]`` segments, at most 255 bytes. Anything else is malformed and is not delivered.
* A *grant* is a topic namespace ending in ``"."`` (``"conversation."``). A component may publish a topic, or
  subscribe to a prefix, only if it starts with one of its grants (so ``b""`` or ``b"conv"`` are not covered by
  ``"conversation."``). Enforced at the broker: a refused message reaches no subscriber, a refused subscription
  delivers nothing.
* Every frame larger than ``max_message_bytes`` is refused (the broker may drop the sending connection).

Refusals the suite expects: ``ValueError`` for a malformed component name or grant, ``KeyError`` for rotating or
revoking a component that was never enrolled.

Key files (optional hook ``BusKeyFilesHook``): a broker that offers it lets the suite check that every file
holding a bus secret key is owner-only and that no bus secret key is in any *other* file the build writes,
anywhere (``$HOME``, ``$TMPDIR``, ``XDG_*`` included). A broker without it has those checks reported "not
implemented", which fails the run like any missing capability.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from aico_secure.audit.events import AuditSink
from aico_secure.sensitive import SecretBytes


@dataclass(frozen=True)
class BusCredentials:
    """What one enrolled component needs to join the bus. Keys are Z85 text (40 characters)."""

    component: str
    public_key: bytes
    secret_key: SecretBytes = field(repr=False)
    server_key: bytes  # the broker's public key, which the client must pin


@runtime_checkable
class BusBroker(Protocol):
    """A running broker. The suite always calls ``stop()``, also when a test fails."""

    @property
    def publish_endpoint(self) -> str:
        """ZeroMQ endpoint a component's PUB socket connects to, e.g. ``tcp://127.0.0.1:40123`` or ``ipc://...``."""

    @property
    def subscribe_endpoint(self) -> str:
        """ZeroMQ endpoint a component's SUB socket connects to."""

    @property
    def server_key(self) -> bytes:
        """The broker's CURVE public key (Z85). Unique per installation: never a constant shipped in source."""

    @property
    def max_message_bytes(self) -> int:
        """Largest frame the broker accepts."""

    def bound_endpoints(self) -> list[str]:
        """Every endpoint any broker socket is bound to, as the engine reports it (e.g. ZMQ ``LAST_ENDPOINT``:
        ``tcp://0.0.0.0:5555`` for a ``tcp://*`` bind). The suite also checks the kernel's socket table."""

    def enroll(self, component: str, *, publish: Collection[str] = (),
               subscribe: Collection[str] = ()) -> BusCredentials:
        """Issue a key pair for a new component, admit its public key, and record its grants."""

    def rotate(self, component: str) -> BusCredentials:
        """New key pair for ``component``, same grants, while the bus keeps running. From return on, the new key
        is admitted and the old key is refused: no new session, and existing sessions of the old key neither
        deliver nor receive messages."""

    def revoke(self, component: str) -> None:
        """Refuse ``component``'s key from now on, with the same effect on existing sessions as ``rotate``."""

    def auth_failures(self) -> int:
        """Failed authentication attempts so far (any mechanism, unlisted keys, wrong server key). Each one is
        also reported to the ``audit`` sink given to ``start`` as ``AuditEvent(category="auth",
        result="failure", ...)``."""

    def stop(self) -> None: ...


@runtime_checkable
class BusCapability(Protocol):
    def start(self, directory: Path, *, audit: AuditSink | None = None) -> BusBroker:
        """Start a broker that keeps its state (its key pair, the allowlist, component key files) in the empty
        ``directory``, listening on loopback or IPC only. Secret key files must be mode 0600."""


@runtime_checkable
class BusKeyFilesHook(Protocol):
    """Optional test hook of a ``BusBroker``: the secret keys it holds and the files it keeps them in.

    Why the suite needs it: a broker secret key in a stray file (a "backup", a cache, a debug dump) lets anyone who
    reads that file be the broker (AICO-BUS-003), a component secret key lets them be that component
    (AICO-BUS-002). The suite can only tell a stray copy from the proper key file if the build says which files
    are its key files, and can only search for keys it knows. Like every test hook it must tell the truth: it
    reports what the broker holds and wrote, never a note of what it meant to do.
    """

    def secret_material(self) -> Mapping[str, bytes]:
        """Every CURVE secret key this broker object holds or generated: its own server secret key (the one that
        belongs to ``server_key``) and each component secret key it issued through ``enroll``/``rotate``,
        including keys rotated out since. Names are free; each value is the key as Z85 text (40 characters) or
        as the raw 32 bytes. The suite searches files for them in every encoding; it never writes them."""

    def key_files(self) -> list[Path]:
        """Every file that holds secret key material of this broker now (its own secret key, component secret
        keys), wherever it is; files with public keys only need not be listed. Each must be owner-only (no
        group or other permission bits, e.g. mode 0600) in directories that are owner-only too (e.g. 0700),
        from the file up to the ``directory`` given to ``start``. A bus secret key found in any file written
        that is not listed here (nor an earlier version of one that was) is a finding."""
