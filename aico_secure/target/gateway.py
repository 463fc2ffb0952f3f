"""The capability contract for the API gateway.

A build starts its gateway on 127.0.0.1 behind TLS 1.3 and hands back a ``RunningGateway``. The conformance
suite then talks to it as any client would: with its own HTTPS client (trusting only ``ca_pem``, checking the
``spki_pin``) and its own SRP-6a implementation (the independent ``srp`` package), over the HTTP API documented
in docs/gateway.md. That document is part of this contract: an outside build's gateway must speak that API, or
put a proxy in front of it that does.

What the suite checks through it (AICO-GW-001..005):

* **GW-001** a user enrolled with ``register`` logs in with an SRP-6a proof (RFC 5054 group of >= 3072 bits,
  named in the challenge) and the server proves itself back; a wrong password gets no token; a client value
  A = 0 (mod N) gets no token; the stored credential (``credential_records``) and every file under
  ``data_dir`` hold the verifier but neither the password nor any password-equivalent (the SRP ``x``, the
  inner hash H(I:P), plain hashes of the password).
* **GW-002** the lifetimes in ``policy`` are short; a refresh token is refused where an access token is wanted
  and vice versa; tokens expire by ``clock`` (each type at its own lifetime: refused from the exact instant
  ``issued + ttl``, accepted one tick before); a refresh token works once; a token of another gateway (same
  keys, other directory) is refused; logout and refresh-token rotation revoke, and the revocation holds after
  ``stop`` and a new ``start`` on the same directory. A restart changes no token's standing: a token that was
  live before it (not expired, revoked or spent) still works after it, every other one is still refused.
* **GW-003** after ``policy.identity_failure_threshold`` wrong proofs for one identity, or
  ``policy.address_failure_threshold`` from one client address (across identities), further attempts are
  refused with 429 and ``Retry-After`` *before* any proof is checked: ``verification_count`` does not move. Each
  attempt is made on a new connection, so a limit that resets per connection fails. A lock ends after
  ``Retry-After`` seconds of ``clock`` time, and the next lock of the same identity lasts longer (backoff).
  Failure counts and locks hold after ``stop`` and a new ``start`` on the same directory. A lock applies at
  every step of the login protocol: a proof sent on a challenge obtained before the lock is refused the same
  way. The client address is the connection's peer address; a header the client sends (``X-Forwarded-For``,
  ``Forwarded``, ``X-Real-IP``) never changes which address a failure is counted against.
* **GW-004** every route of the API refuses unknown fields, wrong types, missing fields, oversize bodies
  (> ``policy.max_body_bytes``), bad UTF-8, bad JSON, duplicate keys and wrong media types with a 4xx and a
  JSON error that names the problem without echoing the value; the server stays up. A request head of
  ``policy.max_header_bytes`` is served and one byte more is refused (431 or closed) at each step of the login
  protocol; a 1 MiB request head is refused (4xx or closed), and hundreds of idle or half-sent connections
  from 127.0.0.1 do not stop a legitimate request from being served; neither do hundreds of requests whose
  body stalls half-sent (each holds its slot only for a bounded time: a legitimate request is served within
  ``STALLED_BODY_BOUND_SECONDS``). ``PUT /v1/data`` accepts a ``value`` of ``policy.max_value_chars``
  characters and refuses one more with a 4xx.
* **Damaged state** (GW-002, GW-003): a ``start`` on a directory whose state is damaged (a flipped byte, a
  truncated file, a file that cannot be read) either raises ``IntegrityViolation`` or starts with that state
  intact: it never starts with revocations, failure counts or locks forgotten, and never fails with another
  exception.
* **GW-005** TLS 1.3 only (a TLS 1.2 client fails the handshake, cleartext HTTP gets no answer); secure
  default headers on every response, the HTTP layer's answers to malformed requests included; no wildcard or
  reflected CORS origin with credentials; CORS allows exactly the origins ``policy.cors_origins`` declares (the
  suite tries each, and look-alikes of each: a longer host, another scheme or port, ``null``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from aico_secure.audit.events import AuditSink
from aico_secure.target.keys import KeySession

Clock = Callable[[], float]  # seconds since the Unix epoch, like time.time

# A request whose body stalls must give up its connection and request slot within this many seconds (GW-004).
STALLED_BODY_BOUND_SECONDS = 30.0


@dataclass(frozen=True)
class GatewayPolicy:
    """The limits a gateway enforces, as numbers the suite can hold it to."""

    access_ttl_seconds: int  # lifetime of an access token
    refresh_ttl_seconds: int  # lifetime of a refresh token
    identity_failure_threshold: int  # wrong proofs for one identity before it is locked
    address_failure_threshold: int  # wrong proofs from one client address (any identities) before it is locked
    max_body_bytes: int  # largest request body accepted; one byte more gets 413
    # Browser origins allowed by CORS, each exactly ``scheme://host[:port]``; empty: no cross-origin access.
    # Matching is exact: a look-alike (a longer host, another scheme or port, ``null``) is never allowed.
    cors_origins: tuple[str, ...] = ()
    # Largest request head (request line, headers and the blank line ending them) accepted; one byte more is
    # refused with 431 or the connection closed, on every route. ``None`` (undeclared) fails AICO-GW-004.
    max_header_bytes: int | None = None
    # Longest ``value`` (in characters) ``PUT /v1/data/{category}/{key}`` accepts; one more is refused with a 4xx.
    # docs/gateway.md fixes it at 16 KiB; a build whose API differs declares its own.
    max_value_chars: int = 16 * 1024


@runtime_checkable
class RunningGateway(Protocol):
    """A gateway serving HTTPS on 127.0.0.1 until ``stop``."""

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:<port>``."""

    @property
    def ca_pem(self) -> bytes:
        """The PEM certificate of the CA that signed the server certificate: the only trust anchor a client
        needs (the server certificate must name 127.0.0.1)."""

    @property
    def spki_pin(self) -> str:
        """Lowercase hex SHA-256 of the server certificate's DER SubjectPublicKeyInfo."""

    @property
    def data_dir(self) -> Path:
        """Where the gateway keeps its state (enrolled credentials, revocations): the suite scans it."""

    @property
    def policy(self) -> GatewayPolicy: ...

    def register(self, username: str, password: str) -> None:
        """Enrol a user the way the build's own client does. The server must end up with a verifier only: the
        reference computes salt and verifier on the client side and sends just those. ``username`` matches
        ``^[a-z0-9][a-z0-9._-]{0,63}$``."""

    def verification_count(self) -> int:
        """Test hook: how many password proofs the server has checked since ``start`` (the expensive,
        password-dependent step, whether it succeeded or not)."""

    def credential_records(self) -> Mapping[str, bytes]:
        """Test hook: each enrolled user's credential record exactly as the server keeps it, decrypted, by
        user name. The suite searches these for the password and password-equivalents and for the verifier."""

    def stop(self) -> None:
        """Stop serving and release the port; calling it again does nothing. State on disk stays for a later
        ``start``."""


@dataclass(frozen=True)
class LoginResult:
    """One login attempt made by a build's own client (``LoginHook.login``), as the suite needs to judge it."""

    status: int  # HTTP status of the last response the login received: 200 issued tokens, 429 limited or locked
    access_token: str | None = None
    refresh_token: str | None = None
    retry_after: str | None = None  # the ``Retry-After`` header of a refusal, exactly as the server sent it
    # The body of every response the login received, in order: the suite checks they name no secret.
    responses: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class LoginRequest:
    """One HTTP request of a build's login protocol: ``body`` is sent as JSON to ``method`` ``path``."""

    method: str
    path: str
    body: Mapping[str, object]


@runtime_checkable
class LoginHook(Protocol):
    """Optional: a ``RunningGateway`` whose login is not the SRP-6a exchange of docs/gateway.md (a password sent
    over TLS, OPAQUE, a single-sign-on flow) logs in through this hook; every other route is still judged over
    HTTP with the tokens it returns. A gateway without the hook is logged in to by the suite's own SRP-6a
    client. AICO-GW-001 (zero-knowledge login) is always judged with the suite's SRP-6a client against the
    documented exchange, so a gateway that takes the password itself fails it, and only it.

    ``login`` must behave like one attempt by the build's real client: a new HTTPS connection to ``base_url``
    (trusting ``ca_pem``) for each request, ``headers`` sent with every request it makes, no retries and no
    waiting, and a refusal returned (not raised) with its status and ``Retry-After``."""

    def login(self, username: str, password: str, *, headers: Mapping[str, str] | None = None) -> LoginResult: ...

    def login_route(self, username: str, password: str) -> LoginRequest:
        """The first request of the build's login, well formed for ``username`` and ``password`` (a JSON body).
        The suite validates that route like every other one (AICO-GW-004: malformed variants, oversize and
        stalled bodies, header limits) and uses it as the route any client reaches without a token."""


@runtime_checkable
class GatewayCapability(Protocol):
    def start(self, session: KeySession, directory: Path, *, audit: AuditSink | None = None,
              clock: Clock | None = None) -> RunningGateway:
        """Start the gateway with keys from ``session``, state in ``directory`` (created if needed; reused
        when it holds a gateway stopped earlier), authentication events sent to ``audit``, and ``clock`` as the
        time source for token expiry, lockouts and challenge lifetimes (wall-clock request-rate limits may use
        real time). Starting again on the same directory with the same keys must keep enrolled users,
        revocations, and failure counts and locks."""
