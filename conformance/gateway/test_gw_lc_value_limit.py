"""The data route's value limit at its exact boundary (AICO-GW-004): ``PUT /v1/data`` stores a ``value`` of
``policy.max_value_chars`` characters and refuses one character more with a JSON 4xx.

A limit checked on the wrong field, off by a few, or only by the whole-body limit passes every "far too big"
test; only the boundary itself tells. The user grants themselves ``write`` first, so the value at the limit
gets as far as the store (a refusal there would not be the schema's), and the stored value is read back.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

import pytest

from aico_secure.target.gateway import RunningGateway

from .gwclient import SuiteClient

CATEGORY = "profile"  # a category every consent service of the suite's builds knows (test_gw_validation)
REFUSALS = {400, 413, 422}
JSON_OVERHEAD = 64  # {"value": "..."} around the value, with room to spare


def _grant(client: SuiteClient, access: str, operation: str) -> None:
    response = client.request("PUT", f"/v1/consent/grants/{CATEGORY}/{operation}", token=access,
                              json={"ttl_seconds": 3600})
    assert response.status_code == 201, f"granting {operation} on {CATEGORY} failed: {response.status_code}"


@pytest.mark.requirement("AICO-GW-004")
def test_data_value_limit_holds_at_its_exact_boundary(shared_gateway: RunningGateway, password: str,
                                                      new_user: Callable[[], str],
                                                      evidence: Callable[[str, object], None]) -> None:
    policy = shared_gateway.policy
    limit = policy.max_value_chars
    assert 0 < limit and limit + JSON_OVERHEAD <= policy.max_body_bytes, \
        f"max_value_chars {limit} does not fit in max_body_bytes {policy.max_body_bytes}: the limit is not real"
    user = new_user()
    shared_gateway.register(user, password)
    with SuiteClient(shared_gateway) as client:
        login = client.login(user, password, honour_short_retry=True)
        assert login.status == 200, f"login failed: {login.status}"
        access = str(login.access_token)
        _grant(client, access, "write")
        _grant(client, access, "read")
        at_limit = secrets.token_hex(limit)[:limit]  # ASCII, so characters and UTF-8 bytes agree
        response = client.request("PUT", f"/v1/data/{CATEGORY}/at-limit", token=access, json={"value": at_limit})
        assert response.status_code in (200, 201, 204), \
            f"a value of exactly max_value_chars ({limit}) characters was answered {response.status_code}"
        stored = client.request("GET", f"/v1/data/{CATEGORY}/at-limit", token=access)
        assert stored.status_code == 200 and stored.json().get("value") == at_limit, \
            "the value at the limit was not stored as sent"
        over = at_limit + "x"
        response = client.request("PUT", f"/v1/data/{CATEGORY}/over-limit", token=access,
                                  content=json.dumps({"value": over}).encode(),
                                  headers={"content-type": "application/json"})
        assert response.status_code in REFUSALS, \
            f"a value one character over max_value_chars ({limit + 1}) was answered {response.status_code}"
        error = response.json()
        assert isinstance(error, dict) and error.get("error") and error.get("detail"), \
            "the refusal of an oversize value is not a JSON error"
        assert over not in response.text, "the refusal echoes the submitted value"
        missing = client.request("GET", f"/v1/data/{CATEGORY}/over-limit", token=access)
        assert missing.status_code == 404, f"the refused value was stored anyway ({missing.status_code})"
    evidence("data value limit", f"{limit} characters accepted, {limit + 1} refused")
