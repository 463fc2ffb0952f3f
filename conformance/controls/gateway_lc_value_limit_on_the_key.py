"""The data route's 16 KiB limit sits on the wrong field: the ``maxLength`` meant for ``value`` was put on the
record ``key`` (whose pattern already bounds it), so a value is bounded only by the 64 KiB body limit and the
store takes values four times the documented size."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from aico_secure.gateway import schemas
from aico_secure.gateway.app import GatewayApi, _consented, _guarded
from aico_secure.gateway.runtime import GatewayRuntime
from aico_secure.gateway.validation import compile_schema, json_body, path_params
from aico_secure.reference.consent import ReferenceConsent
from aico_secure.reference.gateway import ReferenceGateway
from aico_secure.target import Target

from ._base import reference_with

BREAKS = ("AICO-GW-004",)
DATA_ROUTE = "/v1/data/{category}/{key}"


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": sorted(properties), "additionalProperties": False}


VALUE = compile_schema(_object(value={"type": "string"}))
PATH = compile_schema(_object(category=schemas.CATEGORY, key={"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,128}$",
                                                              "maxLength": 16 * 1024}))


class MisplacedLimitApi(GatewayApi):
    async def data_put(self, request: Request) -> Response:
        params = path_params(request, PATH)
        body = await json_body(request, VALUE)
        consent, actor = self._consent(request, params["category"])
        _consented(lambda: consent.write(actor, params["category"], params["key"], body["value"].encode()))
        return Response(status_code=204)


def _starlette(app: ASGIApp) -> Starlette:
    """The Starlette application inside the reference's outer wrappers."""
    while not isinstance(app, Starlette):
        app = app.app  # type: ignore[attr-defined]
    return app


class MisplacedLimitGateway(ReferenceGateway):
    def app(self, runtime: GatewayRuntime) -> ASGIApp:
        outer = super().app(runtime)
        routes = _starlette(outer).router.routes
        api = MisplacedLimitApi(runtime)
        for index, route in enumerate(routes):
            if isinstance(route, Route) and route.path == DATA_ROUTE and "PUT" in (route.methods or ()):
                routes[index] = Route(DATA_ROUTE, _guarded(api.data_put), methods=["PUT"])
        return outer


def build() -> Target:
    return reference_with("data value limit on the wrong field",
                          gateway=MisplacedLimitGateway(consent=ReferenceConsent()))
