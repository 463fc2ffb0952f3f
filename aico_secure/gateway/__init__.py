"""The API gateway (issue 6): SRP-6a login, sealed short-lived tokens, lockout and rate limits, strict request
validation, consent-guarded data routes, served by uvicorn on 127.0.0.1 over TLS 1.3 only.

Modules, one job each: ``srp`` (the protocol), ``users`` (verifiers at rest), ``tokens`` and ``revocation``,
``ratelimit``, ``login`` (the flow), ``validation`` and ``schemas``, ``middleware`` (headers, body limit),
``app`` (routes), ``runtime`` (wiring), ``tls_identity`` and ``server`` (HTTPS), ``client`` (enrolment and login
for tools). The HTTP API is documented in docs/gateway.md, which is part of the target contract.
"""
