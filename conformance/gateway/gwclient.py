"""The suite's own client for a gateway: HTTPS that trusts only the gateway's CA and checks its SPKI pin, and
SRP-6a computed with the independent ``srp`` package (never with the build's code).

Nothing here knows a build's internals: it speaks the HTTP API of docs/gateway.md. A gateway whose login is not
that SRP-6a exchange offers ``LoginHook``; ``SuiteClient.login`` then logs in through it, while
``SuiteClient.srp_login`` always speaks SRP-6a (AICO-GW-001 is judged with it, whatever the build does).
"""

from __future__ import annotations

import hashlib
import ssl
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import srp
from srp import _pysrp

from aico_secure.target.gateway import LoginHook, LoginResult, RunningGateway

# RFC 5054 Appendix A, 3072-bit group (the `srp` package ships 4096 and 8192 but not 3072).
N3072_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD"
    "3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F"
    "24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552"
    "BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF0"
    "6F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64EC"
    "FB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A"
    "0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D1"
    "20A93AD2CAFFFFFFFFFFFFFFFF"
)


@dataclass(frozen=True)
class Group:
    name: str
    N: int
    g: int
    srp_args: dict[str, Any] = field(hash=False, compare=False)


_GROUPS = {
    "rfc5054-3072": Group("rfc5054-3072", int(N3072_HEX, 16), 5,
                          {"ng_type": srp.NG_CUSTOM, "n_hex": N3072_HEX.encode(), "g_hex": b"5"}),
    "rfc5054-4096": Group("rfc5054-4096", 0, 5, {"ng_type": srp.NG_4096}),
    "rfc5054-8192": Group("rfc5054-8192", 0, 19, {"ng_type": srp.NG_8192}),
}
_HASHES = {"sha256": srp.SHA256, "sha384": srp.SHA384, "sha512": srp.SHA512}
MIN_GROUP_BITS = 3072


def group_named(name: str) -> Group:
    group = _GROUPS.get(name)
    if group is None:
        raise AssertionError(f"gateway offered SRP group {name!r}; the suite accepts RFC 5054 groups of >= "
                             f"{MIN_GROUP_BITS} bits: {sorted(_GROUPS)}")
    if not group.N:
        n, g = _pysrp.get_ng(group.srp_args["ng_type"], None, None)
        group = Group(group.name, n, g, group.srp_args)
    return group


def srp_x(hash_name: str, salt: bytes, username: str, password: str) -> int:
    """RFC 5054 x = H(s | H(I | ":" | P)): what the server must never hold."""
    inner = hashlib.new(hash_name, f"{username}:{password}".encode()).digest()
    return int.from_bytes(hashlib.new(hash_name, salt + inner).digest(), "big")


@dataclass
class LoginOutcome:
    """Everything a login attempt produced. ``status`` is the status of the last request made."""

    status: int
    stage: str  # "challenge" or "verify" (SRP-6a), "login" (the build's own login hook)
    body: dict[str, Any]
    retry_after: str | None = None
    challenge: dict[str, Any] = field(default_factory=dict)
    server_proof_ok: bool = False
    responses: list[bytes] = field(default_factory=list)

    @property
    def access_token(self) -> str | None:
        return self.body.get("access_token") if self.status == 200 else None

    @property
    def refresh_token(self) -> str | None:
        return self.body.get("refresh_token") if self.status == 200 else None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


class SuiteClient:
    """HTTPS to one gateway. ``fresh`` opens a new connection (new source port) for every request."""

    def __init__(self, gateway: RunningGateway, *, fresh: bool = False) -> None:
        self.gateway = gateway
        self.fresh = fresh
        self._ca_dir = tempfile.TemporaryDirectory(prefix="aico-suite-ca-")
        self.ca_path = Path(self._ca_dir.name) / "ca.pem"
        self.ca_path.write_bytes(gateway.ca_pem)
        self.context = self.tls_context()
        self._http = self._new_http()
        srp.rfc5054_enable(True)  # each backend has its own switch
        _pysrp.rfc5054_enable(True)

    def tls_context(self, *, maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
        """Trusts only the gateway's CA and checks the host name; allows TLS 1.2 and 1.3 unless ``maximum`` so
        the suite sees which version the *server* picks."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if maximum is not None:
            ctx.maximum_version = maximum
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(self.ca_path))
        return ctx

    def _new_http(self) -> httpx.Client:
        return httpx.Client(base_url=self.gateway.base_url, verify=self.context, timeout=30.0)

    def close(self) -> None:
        self._http.close()
        self._ca_dir.cleanup()

    def __enter__(self) -> SuiteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        if not self.fresh:
            yield self._http
            return
        with self._new_http() as http:
            yield http

    def request(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        with self._client() as http:
            return http.request(method, path, headers=headers, **kwargs)

    def post_json(self, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=body, **kwargs)

    # ---- SRP ------------------------------------------------------------------------------------------------
    def challenge(self, username: str) -> tuple[httpx.Response, dict[str, Any]]:
        response = self.post_json("/v1/auth/challenge", {"username": username})
        return response, _json(response)

    def login(self, username: str, password: str, *, honour_short_retry: bool = False,
              headers: Mapping[str, str] | None = None) -> LoginOutcome:
        """One login the way the build logs in: its ``LoginHook`` if it has one, else SRP-6a. With
        ``honour_short_retry`` a 429 with Retry-After <= 2 s (a wall-clock request-rate limit, not a lockout) is
        waited out, at most three times."""
        gateway = self.gateway
        if not isinstance(gateway, LoginHook):
            return self.srp_login(username, password, honour_short_retry=honour_short_retry, headers=headers)
        return _retrying(lambda: _from_hook(gateway.login(username, password, headers=dict(headers or {}))),
                         honour_short_retry)

    def srp_login(self, username: str, password: str, *, honour_short_retry: bool = False,
                  client_public: int | None = None, zero_key: bytes = b"",
                  headers: Mapping[str, str] | None = None) -> LoginOutcome:
        """One SRP-6a login (RFC 5054 order: challenge gives salt and B, then A and M go together), whatever
        the build's own login is. ``client_public`` overrides A (for attacks; M is then computed the way an
        attacker would for S = 0, with ``zero_key`` as the byte form of S = 0)."""
        return _retrying(lambda: self._login_once(username, password, client_public, zero_key, dict(headers or {})),
                         honour_short_retry)

    def _login_once(self, username: str, password: str, client_public: int | None,
                    zero_key: bytes, headers: dict[str, str]) -> LoginOutcome:
        first = self.post_json("/v1/auth/challenge", {"username": username}, headers=headers)
        challenge = _json(first)
        if first.status_code != 200:
            return LoginOutcome(first.status_code, "challenge", challenge, first.headers.get("retry-after"),
                                responses=[first.content])
        group = group_named(str(challenge.get("group")))
        hash_alg = _HASHES.get(str(challenge.get("hash")))
        assert hash_alg is not None, \
            f"gateway offered SRP hash {challenge.get('hash')!r}; need one of {sorted(_HASHES)}"
        salt, big_b = bytes.fromhex(challenge["salt"]), bytes.fromhex(_even(challenge["B"]))
        user = _backend(salt).User(username, password, hash_alg=hash_alg, **group.srp_args)
        _, big_a = user.start_authentication()
        if client_public is None:
            proof = user.process_challenge(salt, big_b)
            assert proof is not None, "the gateway's B failed the SRP-6a safety check (B % N == 0)"
            a_hex = big_a.hex()
        else:
            proof = forged_proof(str(challenge["hash"]), group, username, salt, client_public, big_b, zero_key)
            a_hex = format(client_public, "x")
        second = self.post_json("/v1/auth/verify", {"challenge_id": challenge["challenge_id"], "A": a_hex,
                                                    "M": proof.hex()}, headers=headers)
        body = _json(second)
        outcome = LoginOutcome(second.status_code, "verify", body, second.headers.get("retry-after"), challenge,
                               responses=[first.content, second.content])
        if second.status_code == 200 and client_public is None:
            user.verify_session(bytes.fromhex(str(body.get("server_proof", ""))))
            outcome.server_proof_ok = bool(user.authenticated())
        return outcome


def _retrying(attempt: Callable[[], LoginOutcome], honour_short_retry: bool) -> LoginOutcome:
    outcome = attempt()
    for _ in range(3):
        wait = outcome.retry_after
        if not (honour_short_retry and outcome.status == 429 and wait and wait.isdigit() and int(wait) <= 2):
            break
        time.sleep(int(wait) + 0.2)
        outcome = attempt()
    return outcome


def _from_hook(result: LoginResult) -> LoginOutcome:
    """The hook's result in the shape the tests read: the tokens as the body of a successful login."""
    assert isinstance(result, LoginResult), f"the gateway's login hook returned {type(result).__name__}"
    body: dict[str, Any] = {}
    if result.access_token is not None:
        body["access_token"] = result.access_token
    if result.refresh_token is not None:
        body["refresh_token"] = result.refresh_token
    return LoginOutcome(result.status, "login", body, result.retry_after, responses=list(result.responses))


def _backend(salt: bytes) -> Any:
    """The ``srp`` package's fast C backend reads the salt as a big number, so a salt with a leading zero byte
    loses it (and the login fails for a correct server); its pure-Python backend keeps the salt as the RFC's
    byte string. The slow one is used only for those salts (1 in 256)."""
    return _pysrp if salt[:1] == b"\0" else srp


def _even(hex_text: str) -> str:
    return hex_text if len(hex_text) % 2 == 0 else "0" + hex_text


def _minimal(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def forged_proof(hash_name: str, group: Group, username: str, salt: bytes, client_public: int,
                 big_b: bytes, zero_key: bytes) -> bytes:
    """The proof an attacker sends with A = 0 (mod N): the server's S is then 0 whatever the password, so M is
    computable without it. ``zero_key`` is how S = 0 is written before hashing into K (``b""`` as the ``srp``
    package writes it, ``b"\\0"`` as minimal one-byte form)."""
    def h(*parts: bytes) -> bytes:
        digest = hashlib.new(hash_name)
        for part in parts:
            digest.update(part)
        return digest.digest()

    width = (group.N.bit_length() + 7) // 8
    session_key = h(zero_key)
    ng = bytes(a ^ b for a, b in zip(h(_minimal(group.N)), h(group.g.to_bytes(width, "big")), strict=True))
    return h(ng, h(username.encode()), salt, _minimal(client_public) if client_public else b"", big_b.lstrip(b"\0"),
             session_key)
