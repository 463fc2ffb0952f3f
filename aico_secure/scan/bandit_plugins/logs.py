"""Secrets handed to a logger: AICO-S108.

Log lines end up in files, shippers and the audit trail; a token, password or key in one is stored in clear.
The value counts wherever it sits in the call (an argument, an f-string, a ``%`` or ``.format`` operand,
``extra={...}``); a value passed through something that reduces it (``len(token)``, ``mask(password)``) does not.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from aico_secure.scan.bandit_plugins._common import dotted, rule
from aico_secure.scan.bandit_plugins._common import issue as make_issue
from aico_secure.scan.bandit_plugins._shapes import secret_value_name

_LEVELS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
# Calls that keep the secret readable in what they return; any other call is taken to reduce or redact it.
_KEEPS = {"str", "repr", "format", "hex", "decode", "encode", "b64encode", "urlsafe_b64encode", "hexlify", "dumps",
          "join", "strip", "upper", "lower"}


_LOGGER = re.compile(r"_*(\w*_)?(log|logger|logging)|\w*logger", re.IGNORECASE)


def _is_logger(func: ast.AST) -> bool:
    if not isinstance(func, ast.Attribute) or func.attr not in _LEVELS:
        return False
    receiver = dotted(func.value) or (dotted(func.value.func) if isinstance(func.value, ast.Call) else None)
    if receiver is None:
        return False
    # logger, log, LOG, _log, audit_log, self.logger, logging, getLogger(...); not catalog or blog
    return bool(_LOGGER.fullmatch(receiver.split(".")[-1]))


def _secrets(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Name) and secret_value_name(node.id):
        yield node.id
    elif isinstance(node, ast.Attribute):
        if secret_value_name(node.attr):
            yield node.attr
    elif isinstance(node, ast.Call):
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if method in _KEEPS:
            if isinstance(func, ast.Attribute):
                yield from _secrets(func.value)
            for arg in node.args:
                yield from _secrets(arg)
    elif isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and secret_value_name(key.value):
            yield key.value  # headers["authorization"], form["password"]
        yield from _secrets(node.value)
    else:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                yield from _secrets(child)


@rule("AICO-S108", "Call")
def aico_secret_logged(context: Any) -> Any:
    call: ast.Call = context.node
    if not _is_logger(call.func):
        return None
    values = list(call.args) + [kw.value for kw in call.keywords if kw.arg not in {"exc_info", "stack_info"}]
    for value in values:
        for name in _secrets(value):
            return make_issue(
                "AICO-S108", f"'{name}' is written to a log; log an identifier or a fingerprint instead.", call
            )
    return None
