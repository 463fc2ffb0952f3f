"""The reference build's API gateway: a thin adapter from ``aico_secure.gateway`` to the contract.

``start`` opens the gateway's sealed state in ``directory``, its TLS identity, and (when the build has one) the
consent service that guards the data routes, in ``directory/consent``; then serves on 127.0.0.1 in a thread.
The reference build hands the gateway its own ``target.consent`` capability (``aico_secure.reference.build``):
one consent implementation, with one store, so a grant revoked through ``target.consent`` on that directory is
refused at the gateway's data routes on the next request.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path

from starlette.types import ASGIApp

from aico_secure.audit.events import AuditSink
from aico_secure.errors import AicoSecureError
from aico_secure.gateway import tls_identity
from aico_secure.gateway.app import create_app
from aico_secure.gateway.client import GatewayClient
from aico_secure.gateway.config import GatewayConfig
from aico_secure.gateway.errors import GatewayStateError
from aico_secure.gateway.runtime import Clock, GatewayRuntime
from aico_secure.gateway.server import GatewayServer
from aico_secure.keys.atomic import atomic_write
from aico_secure.reference.keys import ReferenceKeySession
from aico_secure.target.consent import ConsentCapability, ConsentService
from aico_secure.target.errors import IntegrityViolation
from aico_secure.target.gateway import GatewayPolicy
from aico_secure.target.keys import KeySession
from aico_secure.transport.tls.contexts import client_context

CA_FILE = "ca.crt"
CONSENT_DIR = "consent"


def policy_of(config: GatewayConfig) -> GatewayPolicy:
    return GatewayPolicy(access_ttl_seconds=config.access_ttl, refresh_ttl_seconds=config.refresh_ttl,
                         identity_failure_threshold=config.identity_failure_threshold,
                         address_failure_threshold=config.address_failure_threshold,
                         max_body_bytes=config.max_body_bytes, cors_origins=tuple(config.cors_origins),
                         max_header_bytes=config.connections.max_header_bytes)


class ReferenceRunningGateway:
    def __init__(self, runtime: GatewayRuntime, server: GatewayServer, tls: tls_identity.GatewayTls,
                 directory: Path, consent: ConsentService | None) -> None:
        self.runtime = runtime
        self._server = server
        self._tls = tls
        self._directory = directory
        self._consent = consent
        self._ca_path = directory / CA_FILE
        atomic_write(self._ca_path, tls.ca_pem, mode=0o644)  # public: what a local client loads as trust anchor

    def __repr__(self) -> str:
        return f"ReferenceRunningGateway({self.base_url})"

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def ca_pem(self) -> bytes:
        return self._tls.ca_pem

    @property
    def spki_pin(self) -> str:
        return self._tls.server.spki_sha256

    @property
    def data_dir(self) -> Path:
        return self._directory

    @property
    def consent_directory(self) -> Path | None:
        """Where the gateway's consent service keeps its state (None without one): opening the build's
        consent capability there reaches the same grants and records."""
        return self._directory / CONSENT_DIR if self._consent is not None else None

    @property
    def policy(self) -> GatewayPolicy:
        return policy_of(self.runtime.config)

    def client(self) -> GatewayClient:
        return GatewayClient(self.base_url, client_context(self._ca_path))

    def register(self, username: str, password: str) -> None:
        with self.client() as client:
            client.enrol(username, password, self.runtime.enrolment_token())

    def verification_count(self) -> int:
        return self.runtime.login.verifications

    def credential_records(self) -> Mapping[str, bytes]:
        return self.runtime.state.users.credential_records()

    def stop(self) -> None:
        try:
            self._server.stop()
        finally:
            if self._consent is not None:
                self._consent.close()
                self._consent = None


class ReferenceGateway:
    """The parts a variant may swap are class attributes and small methods (``runtime_class``,
    ``running_class``, ``app``, ``ssl_context``, ``server``)."""

    runtime_class: type[GatewayRuntime] = GatewayRuntime
    running_class: type[ReferenceRunningGateway] = ReferenceRunningGateway

    def __init__(self, config: GatewayConfig | None = None, consent: ConsentCapability | None = None) -> None:
        self.config = config or GatewayConfig()
        self._consent = consent

    def __repr__(self) -> str:
        return "ReferenceGateway()"

    def app(self, runtime: GatewayRuntime) -> ASGIApp:
        return create_app(runtime)

    def ssl_context(self, tls: tls_identity.GatewayTls) -> ssl.SSLContext:
        return tls_identity.ssl_context(tls)

    def server(self, app: ASGIApp, context: ssl.SSLContext) -> GatewayServer:
        return GatewayServer(app, context, limits=self.config.connections)

    def start(self, session: KeySession, directory: Path, *, audit: AuditSink | None = None,
              clock: Clock | None = None) -> ReferenceRunningGateway:
        if not isinstance(session, ReferenceKeySession):
            raise TypeError("the reference gateway needs a session from the reference keys capability")
        directory = Path(directory)
        try:
            runtime = self.runtime_class(session.keyring, directory, config=self.config, audit=audit, clock=clock)
            tls = tls_identity.load_or_create(session.keyring, directory)
        except GatewayStateError as exc:
            raise IntegrityViolation(str(exc)) from None
        if self._consent is not None:
            try:
                runtime.consent = self._consent.open(session, directory / CONSENT_DIR, audit=audit, clock=clock)
            except AicoSecureError as exc:  # its store cannot be opened (e.g. a file there cannot be read)
                raise IntegrityViolation(f"the gateway's consent state cannot be opened ({type(exc).__name__})") \
                    from None
        try:
            server = self.server(self.app(runtime), self.ssl_context(tls))
            server.start()
        except BaseException:
            if runtime.consent is not None:
                runtime.consent.close()
            raise
        try:
            return self.running_class(runtime, server, tls, directory, runtime.consent)
        except OSError as exc:  # the CA file cannot be written (something else stands where it goes)
            server.stop()
            if runtime.consent is not None:
                runtime.consent.close()
            raise IntegrityViolation(f"cannot write the gateway's {CA_FILE} ({type(exc).__name__})") from None
