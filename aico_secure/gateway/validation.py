"""Strict request parsing: JSON bodies checked against a schema, no query strings, bounded path parameters.

Why strict: every field the gateway does not expect is a field some later code might trust. Bodies must be
``application/json`` in UTF-8, parse without duplicate keys, NaN or lone surrogates, and match a JSON Schema
with ``additionalProperties: false``. A refusal is a ``RequestRejected`` carrying a 4xx status and a one-line
message that names the field and the rule, never the submitted value (it may be a password or a token).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from starlette.requests import Request

from aico_secure.gateway.errors import GatewayError

_MAX_NAME = 64


class RequestRejected(GatewayError):
    """The request is refused before any handler logic ran."""

    def __init__(self, status: int, code: str, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after


@lru_cache(maxsize=64)
def _end_anchored(pattern: str) -> re.Pattern[str]:
    """``pattern`` with every unescaped ``$`` as ``\\Z`` (the schemas here use ``$`` only as the final anchor)."""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _ecma_pattern(validator: Any, pattern: str, instance: object,
                  schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    """JSON Schema patterns are ECMA-262, where ``$`` ends the string; Python's ``$`` also matches before a final
    newline, so jsonschema's own check would take "alice\\n" for a user name distinct from "alice"."""
    if validator.is_type(instance, "string") and not _end_anchored(pattern).search(str(instance)):
        yield ValidationError("does not match the pattern")  # never the value: it may be a secret


# Draft 2020-12 with that one keyword replaced (the same interface, though not a subclass).
_Validator: type[Draft202012Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _ecma_pattern})


def compile_schema(schema: Mapping[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return _Validator(schema)


def _where(error: ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f"field '{path}'" if path else "body"


def _short(name: object) -> str:
    text = str(name)
    return text if len(text) <= _MAX_NAME else text[:_MAX_NAME] + "..."


def describe(error: ValidationError) -> str:
    """A message naming where and which rule failed, without echoing the offending value."""
    where, rule = _where(error), error.validator
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if rule == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        extra = sorted(_short(k) for k in error.instance if k not in allowed)
        return f"{where}: unknown field(s) {', '.join(extra)}"
    if rule == "required":
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [_short(k) for k in required if isinstance(error.instance, dict) and k not in error.instance]
        return f"{where}: missing required field(s) {', '.join(missing)}"
    if rule == "type":
        return f"{where}: must be of type {error.validator_value}"
    if rule in ("maxLength", "maxItems", "maxProperties", "maximum"):
        return f"{where}: too large (limit {error.validator_value})"
    if rule in ("minLength", "minItems", "minProperties", "minimum"):
        return f"{where}: too small (minimum {error.validator_value})"
    return f"{where}: does not match the expected format ({rule})"


def validate(validator: Draft202012Validator, instance: object) -> None:
    error = next(iter(sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        raise RequestRejected(400, "invalid_request", describe(error))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise RequestRejected(400, "invalid_request", f"duplicate field '{_short(key)}' in body")
        result[key] = value
    return result


def _no_constants(name: str) -> None:
    raise RequestRejected(400, "invalid_request", f"body contains {name}, which is not JSON")


def parse_json(body: bytes) -> Any:
    """Decode a JSON body as strictly as the standard allows, and then some (no NaN, no duplicates)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected(400, "invalid_request", "body is not valid UTF-8") from None
    if text.startswith("\ufeff"):
        raise RequestRejected(400, "invalid_request", "body starts with a byte-order mark")
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except RequestRejected:
        raise
    except (ValueError, RecursionError):
        raise RequestRejected(400, "invalid_request", "body is not valid JSON") from None
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RequestRejected(400, "invalid_request", "body contains an invalid Unicode escape") from None
    return document


def _check_media_type(request: Request) -> None:
    media, _, params = request.headers.get("content-type", "").partition(";")
    if media.strip().lower() != "application/json":
        raise RequestRejected(415, "unsupported_media_type", "body must be application/json")
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise RequestRejected(415, "unsupported_media_type", "body must be encoded in UTF-8")


def check_query(request: Request) -> None:
    """No route takes query parameters; one that arrives anyway is refused rather than ignored."""
    if request.url.query:
        raise RequestRejected(400, "invalid_request", "this route takes no query parameters")


async def json_body(request: Request, validator: Draft202012Validator) -> dict[str, Any]:
    check_query(request)
    _check_media_type(request)
    document = parse_json(await request.body())
    validate(validator, document)
    return dict(document)


async def no_body(request: Request) -> None:
    check_query(request)
    if await request.body():
        raise RequestRejected(400, "invalid_request", "this route takes no body")


def path_params(request: Request, validator: Draft202012Validator) -> dict[str, str]:
    params = {k: str(v) for k, v in request.path_params.items()}
    validate(validator, params)
    return params
