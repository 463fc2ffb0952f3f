"""CORS open to every origin with credentials: AICO-S109.

With credentials allowed, a wildcard origin is answered by echoing the caller's origin (Starlette, Flask-CORS),
so any web page can make authenticated requests with the user's cookies. A regex counts as a wildcard when it
matches origins nobody chose (it is tried, as Starlette does, with ``fullmatch``).
"""

from __future__ import annotations

import ast
import re
from typing import Any

from aico_secure.scan.bandit_plugins._common import call_name, constant, keyword, rule
from aico_secure.scan.bandit_plugins._common import issue as make_issue

_STRANGERS = ("https://attacker.invalid", "http://evil.example:8080")


def _matches_anyone(pattern: object) -> bool:
    if not isinstance(pattern, str):
        return False
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    return all(compiled.fullmatch(origin) for origin in _STRANGERS)


def _any_origin(origins: ast.AST | None, regex: ast.AST | None, default_any: bool) -> bool:
    if regex is not None and _matches_anyone(constant(regex)):
        return True
    if origins is None:
        return default_any
    value = constant(origins)
    values = value if isinstance(value, list) else [value]
    return any(v == "*" or (isinstance(v, str) and any(c in v for c in "*.+") and _matches_anyone(v)) for v in values)


@rule("AICO-S109", "Call")
def aico_cors_wildcard_credentials(context: Any) -> Any:
    call: ast.Call = context.node
    starlette = keyword(call, "allow_credentials")
    flask = keyword(call, "supports_credentials")
    if starlette is not None and constant(starlette) is True:
        hit = _any_origin(keyword(call, "allow_origins"), keyword(call, "allow_origin_regex"), default_any=False)
    elif flask is not None and constant(flask) is True and call_name(call, context).split(".")[-1] in {
        "CORS", "cross_origin"
    }:
        hit = _any_origin(keyword(call, "origins"), None, default_any=True)  # Flask-CORS defaults to "*"
    else:
        return None
    if hit:
        return make_issue(
            "AICO-S109",
            "CORS allows any origin together with credentials; list the exact origins that may call the gateway.",
            call,
        )
    return None
