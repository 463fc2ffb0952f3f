"""The JWT gateway example configures FastAPI's ``CORSMiddleware`` with ``allow_origin_regex=".*"`` and
``allow_credentials=True`` to make a web front end work from anywhere: the middleware then echoes every
caller's origin with credentials allowed, so any web page a user visits can call the API as the user."""

from __future__ import annotations

from typing import Any

from jwt_gateway import service

from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.keys import ReferenceKeys
from aico_secure.target import Target

BREAKS = ("AICO-GW-005",)


class AnyOriginGateway(service.JwtGateway):
    def cors(self) -> dict[str, Any] | None:
        return {"allow_origin_regex": ".*", "allow_credentials": True, "allow_methods": ["*"],
                "allow_headers": ["*"]}


def build() -> Target:
    return Target(name="negative control: CORS any origin with credentials", version="0", keys=ReferenceKeys(),
                  gateway=AnyOriginGateway(consent=ReferenceConsent()))
