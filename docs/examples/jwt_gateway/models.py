"""Request schemas: one pydantic model per body, strict and closed.

Why strict and closed: ``extra="forbid"`` refuses a field nobody declared (a field some later code might trust),
and ``strict=True`` refuses what pydantic would otherwise coerce (``12345`` for a user name, ``true`` for a
number of seconds). Path parameters have patterns too (``PATTERNS``). Strings are bounded, so no field can carry
more than the route needs.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

USERNAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"
CATEGORY = r"^[a-z][a-z0-9_]{0,31}$"
RECORD_KEY = r"^[A-Za-z0-9._-]{1,128}$"
OPERATION = r"^(read|write|delete)$"
MAX_VALUE_CHARS = 8000
MAX_TOKEN_CHARS = 4096
MAX_GRANT_SECONDS = 366 * 24 * 3600


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True)


class LoginBody(Closed):
    username: Annotated[str, Field(pattern=USERNAME)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class RefreshBody(Closed):
    refresh_token: Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_CHARS)]


class ValueBody(Closed):
    value: Annotated[str, Field(max_length=MAX_VALUE_CHARS)]


class GrantBody(Closed):
    ttl_seconds: Annotated[int, Field(ge=1, le=MAX_GRANT_SECONDS)]
