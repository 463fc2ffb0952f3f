"""The API gateway: SRP-6a login, sealed short-lived tokens, lockout and rate limits, strict request
validation, consent-guarded data routes, served by uvicorn on 127.0.0.1 over TLS 1.3 only.

Modules, one job each: ``srp`` (the protocol), ``users`` (verifiers at rest), ``tokens`` and ``revocation``,
``ratelimit`` and ``lockouts`` (lockout state at rest), ``login`` (the flow), ``validation`` and ``schemas``,
``middleware`` (headers, body limit and timeout, in-flight cap), ``app`` (routes), ``runtime`` (wiring),
``tls_identity`` and ``server`` (HTTPS), ``protocol`` and ``connections`` (per-connection timeouts, header size,
connection caps with eviction), ``client`` (enrolment and login for tools). The HTTP API is documented in
docs/gateway.md, which is part of the target contract.
"""
