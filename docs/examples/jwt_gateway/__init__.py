"""An outside team's gateway: password login over TLS, JWTs, FastAPI. A worked example of the gateway contract
for a build that does not look like the reference.

What it is: a FastAPI application (pydantic models with ``extra="forbid"`` validate every body and path),
password login at ``POST /v1/auth/login {"username", "password"}`` with the password hashed at rest with
Argon2id (argon2-cffi), HS256 JWTs from PyJWT (typed, audience-bound, with issuer, expiry, issue time and id
required and the algorithm pinned), single-use refresh tokens that rotate, logout revocation and lockouts per
identity and per address with backoff, all persisted sealed with the key session it is given. Its own client
logs in with httpx (``client``), which is what the contract's ``LoginHook`` lets the suite use.

What it borrows: the transport. An outside team deploys behind a hardened server too, so the app is served by
the reference's ``aico_secure.gateway.server.GatewayServer`` (TLS 1.3 only, connection caps, idle and header
timeouts, the exact request-head limit answered with 431) with an SSL context made by
``aico_secure.gateway.tls_identity.ssl_context``. Everything about login, tokens, lockouts, revocation,
validation, response headers, CORS and routes is this package's own code.

Module map: ``settings`` (numbers), ``models`` (request schemas), ``sealed`` (state at rest), ``passwords``,
``throttle``, ``tokens``, ``audit``, ``runtime`` (one gateway's state, opened), ``hardening`` (ASGI wrappers),
``api`` (routes), ``tlsid`` (certificate), ``client`` (login client), ``service`` (the contract's
``GatewayCapability`` and ``RunningGateway`` with ``LoginHook``).

The suite judges it with ``docs/examples/jwt_adapter.py``; it passes every gateway requirement except
AICO-GW-001, which asks for a zero-knowledge login and so cannot be met by a build that receives the password.
"""

from __future__ import annotations

from .service import JwtGateway, RunningJwtGateway
from .settings import Settings

__all__ = ["JwtGateway", "RunningJwtGateway", "Settings"]
