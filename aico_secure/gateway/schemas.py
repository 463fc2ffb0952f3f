"""The JSON Schemas of every route (draft 2020-12). docs/gateway.md publishes the same shapes.

Every object schema sets ``additionalProperties: false`` and bounds every string. Binary values travel as
lowercase hex; big integers (SRP A, B, verifier) as minimal hex of at most the group's width.
"""

from __future__ import annotations

from typing import Any

from aico_secure.gateway.srp import DEFAULT_GROUP
from aico_secure.gateway.validation import compile_schema

USERNAME = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9._-]{0,63}$"}
BIG_HEX = {"type": "string", "pattern": r"^[0-9a-f]+$", "minLength": 1, "maxLength": 2 * DEFAULT_GROUP.width}
SALT_HEX = {"type": "string", "pattern": r"^([0-9a-f]{2}){16,64}$"}
PROOF_HEX = {"type": "string", "pattern": r"^([0-9a-f]{2}){16,64}$"}
TOKEN = {"type": "string", "minLength": 1, "maxLength": 4096}
CHALLENGE_ID = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{16,64}$"}


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": sorted(properties),
            "additionalProperties": False}


REGISTER = compile_schema(_object(username=USERNAME, salt=SALT_HEX, verifier=BIG_HEX))
CHALLENGE = compile_schema(_object(username=USERNAME))
VERIFY = compile_schema(_object(challenge_id=CHALLENGE_ID, A=BIG_HEX, M=PROOF_HEX))
REFRESH = compile_schema(_object(refresh_token=TOKEN))
DATA_PUT = compile_schema(_object(value={"type": "string", "maxLength": 16 * 1024}))
CATEGORY = {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,31}$"}
DATA_PATH = compile_schema(_object(category=CATEGORY, key={"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,128}$"}))
GRANT_PATH = compile_schema(_object(category=CATEGORY, operation={"enum": ["read", "write", "delete"]}))
GRANT_PUT = compile_schema(_object(ttl_seconds={"type": "integer", "minimum": 1, "maximum": 366 * 24 * 3600}))
