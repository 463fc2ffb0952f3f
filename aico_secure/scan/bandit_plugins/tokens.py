"""Session tokens accepted without their checks: AICO-S104.

A JWT decoded with signature, audience or expiry verification off, with the ``none`` algorithm, or with no
algorithm list (the token's own header then picks the algorithm) proves nothing about who sent it.
"""

from __future__ import annotations

import ast
from typing import Any

from aico_secure.scan.bandit_plugins._common import argument, call_name, constant, keyword, resolve, rule
from aico_secure.scan.bandit_plugins._common import issue as make_issue

_DECODERS = {"jwt.decode", "jwt.decode_complete", "jwt.api_jwt.decode", "jwt.api_jwt.decode_complete",
             "jose.jwt.decode", "jwt.PyJWT.decode"}
_CHECKS = {"verify_signature", "verify_aud", "verify_exp", "verify_iat", "verify_nbf", "verify_iss", "verify_sub",
           "verify_jti", "verify_at_hash"}


def _disabled_checks(options: ast.AST) -> list[str]:
    value = resolve(options)
    pairs: list[tuple[object, ast.expr]]
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
        pairs = [(kw.arg, kw.value) for kw in value.keywords]
    elif isinstance(value, ast.Dict):
        pairs = [(constant(k) if k is not None else None, v) for k, v in zip(value.keys, value.values, strict=True)]
    else:
        return []
    return sorted(str(k) for k, v in pairs if k in _CHECKS and constant(v) is False)


def _jwt_imported(context: Any) -> bool:
    """A variable that happens to be called ``jwt`` is not the library."""
    imported: set[str] = context._context.get("imports", set())
    return any(name == "jwt" or name.startswith(("jwt.", "jose")) for name in imported)


@rule("AICO-S104", "Call")
def aico_jwt_unverified(context: Any) -> Any:
    call: ast.Call = context.node
    if call_name(call, context) not in _DECODERS or not _jwt_imported(context):
        return None
    problems: list[str] = []
    options = keyword(call, "options")
    if options is not None:
        problems += [f"{name} off" for name in _disabled_checks(options)]
    if constant(keyword(call, "verify") or ast.Constant(None)) is False:  # PyJWT 1.x
        problems.append("verify=False")
    algorithms = argument(call, 2, "algorithms")
    if algorithms is None:
        problems.append("no algorithms list")
    elif algorithms is not None:
        listed = constant(algorithms)
        names = listed if isinstance(listed, list) else [listed]
        if any(isinstance(n, str) and n.lower() == "none" for n in names):
            problems.append("'none' algorithm allowed")
    if problems:
        return make_issue(
            "AICO-S104",
            f"JWT decoded without its checks ({', '.join(problems)}); pin algorithms and verify signature, "
            "audience and expiry.",
            call,
        )
    return None
