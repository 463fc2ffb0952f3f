"""The gateway's own login client (what the companion app does), with httpx.

One login is one ``POST /v1/auth/login`` on a new HTTPS connection that trusts only the gateway's CA and
speaks TLS 1.3. A refusal is returned with its status and ``Retry-After``, never retried: the caller decides
whether to wait. This is what the conformance suite calls through the contract's ``LoginHook``.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import httpx

from aico_secure.target.gateway import LoginRequest, LoginResult

LOGIN_PATH = "/v1/auth/login"


def login_request(username: str, password: str) -> LoginRequest:
    return LoginRequest("POST", LOGIN_PATH, {"username": username, "password": password})


class LoginClient:
    def __init__(self, base_url: str, ca_pem: bytes, timeout: float = 30.0) -> None:
        self.base_url = base_url
        self._context = ssl.create_default_context(cadata=ca_pem.decode("ascii"))
        self._context.minimum_version = ssl.TLSVersion.TLSv1_3
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"LoginClient({self.base_url})"

    def login(self, username: str, password: str, *, headers: Mapping[str, str] | None = None) -> LoginResult:
        request = login_request(username, password)
        with httpx.Client(base_url=self.base_url, verify=self._context, timeout=self._timeout) as http:
            response = http.request(request.method, request.path, json=dict(request.body), headers=dict(headers or {}))
        body: Any = None
        if response.status_code == 200:
            try:
                body = response.json()
            except ValueError:
                body = None
        tokens = body if isinstance(body, dict) else {}
        access, refresh = tokens.get("access_token"), tokens.get("refresh_token")
        return LoginResult(response.status_code,
                           access_token=access if isinstance(access, str) else None,
                           refresh_token=refresh if isinstance(refresh, str) else None,
                           retry_after=response.headers.get("retry-after"), responses=(response.content,))
