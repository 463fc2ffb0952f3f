"""The message bus's own exposure: AICO-S102 (any CURVE key admitted) and AICO-S103 (bound beyond loopback).

``configure_curve(location=CURVE_ALLOW_ANY)`` turns CurveZMQ's allowlist off: encryption stays, authentication
goes. Binding to every interface puts the bus on the network, where only loopback or IPC is allowed.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from aico_secure.scan.bandit_plugins._common import argument, constant, qualified, resolve, rule
from aico_secure.scan.bandit_plugins._common import issue as make_issue


def _allows_any(node: ast.AST, aliases: dict[str, str]) -> bool:
    value = resolve(node)
    if isinstance(value, ast.Constant):
        return value.value == "*"
    name = qualified(value, aliases)
    return name is not None and name.split(".")[-1] == "CURVE_ALLOW_ANY"


@rule("AICO-S102", "Call")
def aico_curve_allow_any(context: Any) -> Any:
    call: ast.Call = context.node
    func = call.func
    method = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if method != "configure_curve":
        return None
    location = argument(call, 1, "location")
    if location is not None and _allows_any(location, context.import_aliases):
        return make_issue(
            "AICO-S102",
            "configure_curve() admits any CURVE client key; give it the directory of allowed public keys.",
            location,
        )
    return None


# tcp://*:5555, tcp://0.0.0.0:5555, tcp://[::]:5555, tcp://:::5555, udp/pgm/ws transports alike.
_WILDCARD_ENDPOINT = re.compile(r"^[a-z+]+://(\*|0\.0\.0\.0|\[::\]|::|\[::0\]|0:0:0:0:0:0:0:0)(:|;|$)", re.IGNORECASE)
_WILDCARD_HOSTS = {"", "*", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"}  # noqa: S104  # nosec B104: what S103 looks for


def _endpoint_text(node: ast.AST) -> str | None:
    """The endpoint as far as it is literal: f"tcp://*:{port}" gives "tcp://*:" (enough to judge the host)."""
    value = resolve(node)
    if isinstance(value, ast.JoinedStr):
        text = ""
        for part in value.values:
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                break
            text += part.value
        return text or None
    found = constant(value)
    if isinstance(found, bytes):
        return found.decode("latin-1")
    return found if isinstance(found, str) else None


def _wildcard(node: ast.AST) -> bool:
    value = resolve(node)
    if isinstance(value, ast.Tuple) and value.elts:  # socket.bind(("0.0.0.0", 8000)) / (("", 8000))
        host = constant(value.elts[0])
        return isinstance(host, str) and host in _WILDCARD_HOSTS
    text = _endpoint_text(value)
    return text is not None and bool(_WILDCARD_ENDPOINT.match(text))


@rule("AICO-S103", "Call")
def aico_bind_all_interfaces(context: Any) -> Any:
    call: ast.Call = context.node
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in {"bind", "bind_to_random_port"}:
        return None
    address = argument(call, 0, "addr")
    if address is not None and _wildcard(address):
        return make_issue(
            "AICO-S103",
            "Socket bound to every interface; bind to 127.0.0.1, ::1 or an ipc:// endpoint.",
            address,
        )
    return None
