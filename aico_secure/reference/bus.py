"""The reference build's message bus: a thin adapter from ``aico_secure.transport.bus`` to the contract."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from zmq.utils import z85

from aico_secure.audit.events import AuditSink
from aico_secure.sensitive import SecretBytes
from aico_secure.target.bus import BusCredentials
from aico_secure.target.errors import IntegrityViolation
from aico_secure.transport.bus import Broker, BrokerConfig, CurveKeyPair
from aico_secure.transport.errors import BusConfigError, UnknownComponentError


class ReferenceBusBroker:
    """Contract view of a running ``Broker``."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._issued: dict[str, SecretBytes] = {}  # every component secret handed out, for secret_material()

    def __repr__(self) -> str:
        return f"ReferenceBusBroker({self.broker!r})"

    @property
    def publish_endpoint(self) -> str:
        return self.broker.publish_endpoint

    @property
    def subscribe_endpoint(self) -> str:
        return self.broker.subscribe_endpoint

    @property
    def server_key(self) -> bytes:
        return self.broker.server_keys.public

    @property
    def max_message_bytes(self) -> int:
        return self.broker.config.max_message_bytes

    def bound_endpoints(self) -> list[str]:
        return self.broker.bound_endpoints()

    def _credentials(self, component: str, pair: CurveKeyPair) -> BusCredentials:
        self._issued[f"component {component} #{len(self._issued) + 1}"] = pair.secret
        return BusCredentials(component, pair.public, pair.secret, self.server_key)

    def enroll(self, component: str, *, publish: Collection[str] = (),
               subscribe: Collection[str] = ()) -> BusCredentials:
        try:
            _entry, pair = self.broker.enroll(component, publish=publish, subscribe=subscribe)
        except BusConfigError as exc:
            raise ValueError(str(exc)) from None
        return self._credentials(component, pair)

    def rotate(self, component: str) -> BusCredentials:
        try:
            _entry, pair = self.broker.rotate(component)
        except UnknownComponentError as exc:
            raise KeyError(str(exc)) from None
        return self._credentials(component, pair)

    def revoke(self, component: str) -> None:
        try:
            self.broker.revoke(component)
        except UnknownComponentError as exc:
            raise KeyError(str(exc)) from None

    def auth_failures(self) -> int:
        return self.broker.stats.auth_failures

    def stop(self) -> None:
        self.broker.stop()

    # ---- test hook (``BusKeyFilesHook``) ---------------------------------------------------------------------
    def secret_material(self) -> Mapping[str, bytes]:
        """The server secret and every component secret issued through this object, Z85 and raw."""
        found: dict[str, bytes] = {}
        for name, secret in [("server", self.broker.server_keys.secret), *self._issued.items()]:
            found[f"{name} (z85)"] = secret.reveal()
            found[f"{name} (raw)"] = z85.decode(secret.reveal())
        return found

    def key_files(self) -> list[Path]:
        """``broker.key_secret`` and ``components/<name>.key_secret`` (``aico_secure.transport.bus.keys``): the
        only files the broker writes secret keys to; public ``.key`` files and the allowlist hold none."""
        directory = self.broker.directory
        return sorted(p for p in [directory / "broker.key_secret", *directory.glob("components/*.key_secret")]
                      if p.is_file())


class ReferenceBus:
    """Starts brokers on loopback TCP with ephemeral ports."""

    broker_class: type[Broker] = Broker

    def config(self, directory: Path) -> BrokerConfig:
        """The broker configuration for ``directory`` (negative controls override this one method)."""
        return BrokerConfig(directory)

    def start(self, directory: Path, *, audit: AuditSink | None = None) -> ReferenceBusBroker:
        try:
            return ReferenceBusBroker(self.broker_class.start(self.config(directory), audit))
        except BusConfigError as exc:  # e.g. a key file in the directory that others can read
            raise IntegrityViolation(str(exc)) from None
