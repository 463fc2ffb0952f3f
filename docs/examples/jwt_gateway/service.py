"""The contract's gateway capability for this build: ``JwtGateway.start`` opens the state, the consent service
(when given one) and the certificate, and serves the app on 127.0.0.1 in a background thread.

Served by the reference's hardened server (``aico_secure.gateway.server.GatewayServer``): TLS 1.3 only, the
connection caps, handshake/idle/header timeouts and the request-head limit (``Settings.max_header_bytes``,
answered 431) are its work. An outside team deploys behind a hardened server too; writing one is not what this
example is about. The request-body limit and deadline are this build's own (``hardening.BodyGuard``).

The parts a variant may swap are class attributes and one method (``tokens_class``, ``lockouts_class``,
``trail_class``, ``cors``): the negative controls in conformance/controls/jwtgw_*.py are this build with one of
them changed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aico_secure.audit.events import AuditSink
from aico_secure.gateway.config import ConnectionLimits
from aico_secure.gateway.server import GatewayServer
from aico_secure.gateway.tls_identity import GatewayTls
from aico_secure.target import IntegrityViolation
from aico_secure.target.consent import ConsentCapability
from aico_secure.target.gateway import Clock, GatewayPolicy, LoginRequest, LoginResult
from aico_secure.target.keys import KeySession

from . import tlsid
from .api import build_app
from .audit import AuthTrail
from .client import LoginClient, login_request
from .passwords import UserExists
from .runtime import Runtime, open_runtime
from .settings import Settings
from .throttle import Lockouts
from .tokens import TokenService

CONSENT_DIR = "consent"


class RunningJwtGateway:
    def __init__(self, runtime: Runtime, server: GatewayServer, tls: GatewayTls, directory: Path) -> None:
        self.runtime = runtime
        self._server = server
        self._tls = tls
        self._directory = directory
        self._client = LoginClient(server.base_url, tls.ca_pem)

    def __repr__(self) -> str:
        return f"RunningJwtGateway({self.base_url})"

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
        return self._directory / CONSENT_DIR if self.runtime.consent is not None else None

    @property
    def policy(self) -> GatewayPolicy:
        s = self.runtime.settings
        return GatewayPolicy(access_ttl_seconds=s.access_ttl, refresh_ttl_seconds=s.refresh_ttl,
                             identity_failure_threshold=s.identity_threshold,
                             address_failure_threshold=s.address_threshold, max_body_bytes=s.max_body_bytes,
                             cors_origins=s.cors_origins, max_header_bytes=self._server.limits.max_header_bytes,
                             max_value_chars=s.max_value_chars)

    def register(self, username: str, password: str) -> None:
        """Enrolment is an operator action on the gateway's host (no HTTP route): the hash is made here."""
        try:
            self.runtime.passwords.enrol(username, password)
        except UserExists:
            raise ValueError("that user name is taken") from None

    def verification_count(self) -> int:
        return self.runtime.passwords.verifications

    def credential_records(self) -> Mapping[str, bytes]:
        return self.runtime.passwords.records()

    def login(self, username: str, password: str, *, headers: Mapping[str, str] | None = None) -> LoginResult:
        return self._client.login(username, password, headers=headers)

    def login_route(self, username: str, password: str) -> LoginRequest:
        return login_request(username, password)

    def stop(self) -> None:
        try:
            self._server.stop()
        finally:
            if self.runtime.consent is not None:
                self.runtime.consent.close()
                self.runtime.consent = None


class JwtGateway:
    tokens_class: type[TokenService] = TokenService
    lockouts_class: type[Lockouts] = Lockouts
    trail_class: type[AuthTrail] = AuthTrail

    def __init__(self, settings: Settings | None = None, consent: ConsentCapability | None = None) -> None:
        self.settings = settings or Settings()
        self._consent = consent

    def __repr__(self) -> str:
        return "JwtGateway()"

    def cors(self) -> dict[str, Any] | None:
        """CORSMiddleware's options: the declared origins exactly, without credentials; None without origins."""
        if not self.settings.cors_origins:
            return None
        return {"allow_origins": list(self.settings.cors_origins), "allow_credentials": False,
                "allow_methods": ["GET", "PUT", "POST", "DELETE"], "allow_headers": ["authorization", "content-type"]}

    def start(self, session: KeySession, directory: Path, *, audit: AuditSink | None = None,
              clock: Clock | None = None) -> RunningJwtGateway:
        directory = Path(directory)
        try:
            runtime = open_runtime(session, directory, self.settings, clock or time.time, audit,
                                   self.tokens_class, self.lockouts_class, self.trail_class)
            tls = tlsid.load_or_create(session, directory)
        except OSError as exc:  # a state file that cannot be read or written (e.g. a directory in its place)
            raise IntegrityViolation(f"the gateway's state cannot be opened ({type(exc).__name__})") from None
        if self._consent is not None:
            try:
                runtime.consent = self._consent.open(session, directory / CONSENT_DIR, audit=audit, clock=clock)
            except IntegrityViolation:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure to open it is damaged state to the caller
                raise IntegrityViolation(f"the consent state cannot be opened ({type(exc).__name__})") from None
        limits = ConnectionLimits(max_header_bytes=self.settings.max_header_bytes,
                                  body_timeout=self.settings.body_timeout)
        try:
            server = GatewayServer(build_app(runtime, self.cors()), tlsid.context(tls), limits=limits)
            server.start()
            return RunningJwtGateway(runtime, server, tls, directory)
        except BaseException:
            if runtime.consent is not None:
                runtime.consent.close()
            raise
