"""A small HTTPS client for the gateway API: enrolment (verifier computed here, on the client side) and SRP login.

The reference adapter enrols users with it, and tools and benchmarks log in with it. The conformance suite does
*not* use it: it speaks SRP with the independent ``srp`` package, so the reference server is never judged by
its own client.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import httpx

from aico_secure.gateway.errors import GatewayError, SrpError
from aico_secure.gateway.srp import DEFAULT_GROUP, SrpClientSession, compute_verifier, new_salt


class GatewayClientError(GatewayError):
    """The gateway refused a request; ``status`` and ``code`` say how."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code = status, code


@dataclass(frozen=True, repr=False)
class Session:
    username: str
    access_token: str
    refresh_token: str

    def __repr__(self) -> str:
        return f"Session(username={self.username!r}, <tokens redacted>)"


class GatewayClient:
    def __init__(self, base_url: str, ssl_context: ssl.SSLContext, *, timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=base_url, verify=ssl_context, timeout=timeout)

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: dict[str, Any], bearer: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
        response = self._http.post(path, json=body, headers=headers)
        return self._json(response)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            document = response.json() if response.content else {}
        except ValueError:
            document = {}
        if response.status_code >= 400:
            raise GatewayClientError(response.status_code, str(document.get("error", "")),
                                     str(document.get("detail", "")))
        return dict(document)

    def enrol(self, username: str, password: str, enrolment_token: str) -> None:
        """Compute salt and verifier here and send only those: the password never leaves this process."""
        salt = new_salt()
        verifier = compute_verifier(DEFAULT_GROUP, salt, username, password)
        self._post("/v1/auth/register", {"username": username, "salt": salt.hex(), "verifier": format(verifier, "x")},
                   bearer=enrolment_token)

    def login(self, username: str, password: str) -> Session:
        challenge = self._post("/v1/auth/challenge", {"username": username})
        if challenge.get("group") != DEFAULT_GROUP.name or challenge.get("hash") != DEFAULT_GROUP.hash_name:
            raise SrpError("the gateway offered an unexpected SRP group")
        srp = SrpClientSession(DEFAULT_GROUP, username, password)
        proof = srp.process_challenge(bytes.fromhex(challenge["salt"]), int(challenge["B"], 16))
        result = self._post("/v1/auth/verify", {"challenge_id": challenge["challenge_id"],
                                                "A": format(srp.client_public, "x"), "M": proof.hex()})
        if not srp.verify_server(bytes.fromhex(result["server_proof"])):
            raise SrpError("the gateway's proof does not verify: it does not hold this user's verifier")
        return Session(username, result["access_token"], result["refresh_token"])

    def refresh(self, session: Session) -> Session:
        result = self._post("/v1/auth/refresh", {"refresh_token": session.refresh_token})
        return Session(session.username, result["access_token"], result["refresh_token"])

    def get(self, path: str, session: Session) -> httpx.Response:
        return self._http.get(path, headers={"authorization": f"Bearer {session.access_token}"})
