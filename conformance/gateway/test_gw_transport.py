"""Transport and response hygiene (AICO-GW-005): TLS 1.3 only with the advertised certificate pin, secure
default headers on every response, and no wildcard or reflected CORS origin together with credentials."""

from __future__ import annotations

import hashlib
import socket
import ssl
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from aico_secure.target.gateway import RunningGateway

from . import steps
from .gwclient import SuiteClient

MIN_HSTS_SECONDS = 31_536_000
EVIL_ORIGINS = ("https://evil.example", "null")


@pytest.fixture
def gateway(shared_gateway: RunningGateway) -> RunningGateway:
    """These checks only observe the server: one gateway serves the whole module."""
    return shared_gateway


def _address(gateway: RunningGateway) -> tuple[str, int]:
    parts = urlsplit(gateway.base_url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def _handshake(gateway: RunningGateway, context: ssl.SSLContext) -> ssl.SSLSocket:
    host, port = _address(gateway)
    raw = socket.create_connection((host, port), timeout=10)
    try:
        return context.wrap_socket(raw, server_hostname=host)
    except BaseException:
        raw.close()
        raise


@pytest.mark.requirement("AICO-GW-005")
def test_tls13_with_the_advertised_pin(gateway: RunningGateway, client: SuiteClient,
                                       evidence: Callable[[str, object], None]) -> None:
    with _handshake(gateway, client.tls_context()) as tls:
        version, cipher = tls.version(), tls.cipher()
        der = tls.getpeercert(binary_form=True)
    assert version == "TLSv1.3", f"the gateway negotiated {version} with a client offering 1.2 and 1.3"
    assert der, "the gateway presented no certificate"
    spki = x509.load_der_x509_certificate(der).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert hashlib.sha256(spki).hexdigest() == gateway.spki_pin.lower(), "the certificate does not match spki_pin"
    evidence("tls", f"{version} {cipher[0] if cipher else '?'}")


@pytest.mark.requirement("AICO-GW-005")
def test_tls12_client_is_refused(gateway: RunningGateway, client: SuiteClient) -> None:
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _handshake(gateway, client.tls_context(maximum=ssl.TLSVersion.TLSv1_2)).close()
    # the refusal is the server's: the same client context with 1.3 allowed works
    _handshake(gateway, client.tls_context()).close()


@pytest.mark.requirement("AICO-GW-005")
def test_cleartext_http_gets_no_answer(gateway: RunningGateway) -> None:
    host, port = _address(gateway)
    with socket.create_connection((host, port), timeout=10) as raw:
        raw.sendall(f"GET /v1/health HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        try:
            while chunk := raw.recv(4096):
                answer += chunk
        except (ConnectionError, TimeoutError):
            pass
    status_line = answer.split(b"\r\n", 1)[0]
    assert not (status_line.startswith(b"HTTP/") and b" 2" in status_line), "the gateway answered cleartext HTTP"
    assert b'"status"' not in answer


def _check_headers(response: httpx.Response, what: str) -> None:
    headers = response.headers
    assert headers.get("x-content-type-options", "").lower() == "nosniff", f"{what}: no X-Content-Type-Options"
    hsts = headers.get("strict-transport-security", "")
    max_age = next((p.split("=", 1)[1] for p in (x.strip() for x in hsts.split(";")) if p.startswith("max-age=")), "0")
    assert max_age.isdigit() and int(max_age) >= MIN_HSTS_SECONDS, f"{what}: HSTS missing or under a year"
    assert "no-store" in headers.get("cache-control", "").lower(), f"{what}: responses must not be cached"
    frame = headers.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN") or \
        "frame-ancestors" in headers.get("content-security-policy", "")
    assert frame, f"{what}: no framing protection (X-Frame-Options or CSP frame-ancestors)"
    if response.content:
        assert headers.get("content-type"), f"{what}: a body without Content-Type"


@pytest.mark.requirement("AICO-GW-005")
def test_secure_headers_on_every_kind_of_response(gateway: RunningGateway, client: SuiteClient, password: str,
                                                  new_user: Callable[[], str]) -> None:
    user = new_user()
    gateway.register(user, password)
    login_route = steps.login_path(gateway, "/v1/auth/challenge")
    with httpx.Client(base_url=gateway.base_url, verify=client.context, timeout=30) as http:
        seen = {
            "health": http.get("/v1/health"),
            "no token": http.get("/v1/me"),
            "unknown path": http.get("/v1/no-such-route"),
            "wrong method": http.delete("/v1/health"),
            "malformed": http.post(login_route, content=b"{", headers={"content-type": "application/json"}),
            "oversize": http.post(login_route, headers={"content-type": "application/json"},
                                  content=b"{" + b" " * (gateway.policy.max_body_bytes + 1) + b"}"),
        }
    assert [r.status_code for r in seen.values()] == [200, 401, 404, 405, 400, 413], \
        {k: r.status_code for k, r in seen.items()}
    outcome = client.login(user, password, honour_short_retry=True)
    assert outcome.status == 200
    me = client.request("GET", "/v1/me", token=outcome.access_token)
    for what, response in {**seen, "authenticated": me}.items():
        _check_headers(response, what)


@pytest.mark.requirement("AICO-GW-005")
@pytest.mark.parametrize("origin", EVIL_ORIGINS)
def test_no_wildcard_or_reflected_cors_with_credentials(gateway: RunningGateway, client: SuiteClient, password: str,
                                                        new_user: Callable[[], str], origin: str) -> None:
    user = new_user()
    gateway.register(user, password)
    token = client.login(user, password, honour_short_retry=True).access_token
    preflight = {"origin": origin, "access-control-request-method": "PUT",
                 "access-control-request-headers": "authorization, content-type"}
    responses = {
        "GET /v1/health": client.request("GET", "/v1/health", headers={"origin": origin}),
        "GET /v1/me": client.request("GET", "/v1/me", token=token, headers={"origin": origin}),
        "preflight login": client.request("OPTIONS", steps.login_path(gateway, "/v1/auth/challenge"),
                                          headers=preflight),
        "preflight data": client.request("OPTIONS", "/v1/data/profile/note", headers=preflight),
    }
    for what, response in responses.items():
        allowed = response.headers.get("access-control-allow-origin", "")
        credentials = response.headers.get("access-control-allow-credentials", "").lower() == "true"
        assert not (credentials and allowed in ("*", origin)), \
            f"{what}: allows origin {allowed!r} with credentials"
        assert allowed != "*" or not response.headers.get("access-control-allow-headers", "").count("authorization"), \
            f"{what}: wildcard origin may send Authorization"
