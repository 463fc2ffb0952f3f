"""What every AICO plugin needs: bandit's registration, issues built from the rule table, and small AST helpers.

Bandit hands a plugin one node with parent links (``_bandit_parent``) set on the path from the module down to it;
the helpers below use those links to find the enclosing scope and follow a name back to the value it was given,
which is how most of these patterns really appear in code (``ADDR = "tcp://*:5555"`` ... ``sock.bind(ADDR)``).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import bandit  # type: ignore[import-untyped]
from bandit.core import test_properties  # type: ignore[import-untyped]

from aico_secure.scan.model import Confidence, Severity
from aico_secure.scan.rules import BY_ID

F = TypeVar("F", bound=Callable[..., Any])

_BANDIT_SEVERITY = {
    Severity.LOW: "LOW", Severity.MEDIUM: "MEDIUM", Severity.HIGH: "HIGH", Severity.CRITICAL: "HIGH",
}
_BANDIT_CONFIDENCE = {Confidence.LOW: "LOW", Confidence.MEDIUM: "MEDIUM", Confidence.HIGH: "HIGH"}


def rule(rule_id: str, *checks: str) -> Callable[[F], F]:
    """Register a function as bandit test ``rule_id`` run on the given node types (typed, unlike bandit's)."""

    def register(func: F) -> F:
        @functools.wraps(func)
        def run(context: Any) -> Any:
            _adopt(context.node)
            return func(context)

        test_properties.checks(*checks)(run)
        test_properties.test_id(rule_id)(run)
        return run  # type: ignore[return-value]

    return register


def _adopt(node: ast.AST) -> None:
    """Give the node's subtree the parent links bandit only sets once it descends (the same links it will set),
    so a helper starting from an argument can still find its function and module."""
    for above in ast.walk(node):
        for child in ast.iter_child_nodes(above):
            if not hasattr(child, "_bandit_parent"):
                child._bandit_parent = above  # type: ignore[attr-defined]


def issue(rule_id: str, text: str, node: ast.AST | None = None) -> Any:
    """A bandit issue carrying the rule table's metadata; ``node`` pins the line (the value, not the statement)."""
    meta = BY_ID[rule_id]
    lineno = getattr(node, "lineno", None) if node is not None else None
    return bandit.Issue(
        severity=_BANDIT_SEVERITY[meta.severity],
        confidence=_BANDIT_CONFIDENCE[meta.confidence],
        cwe=meta.cwe,
        text=text,
        lineno=lineno,
        test_id=rule_id,
    )


def parent(node: ast.AST) -> ast.AST | None:
    found: ast.AST | None = getattr(node, "_bandit_parent", None)
    return found


def ancestors(node: ast.AST) -> Iterator[ast.AST]:
    current = parent(node)
    while current is not None:
        yield current
        current = parent(current)


SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module)


def scope_of(node: ast.AST) -> ast.AST | None:
    """The nearest enclosing function (or the module)."""
    for above in ancestors(node):
        if isinstance(above, SCOPES):
            return above
    return None


def module_of(node: ast.AST) -> ast.AST | None:
    last: ast.AST | None = None
    for above in ancestors(node):
        last = above
    return last if isinstance(last, ast.Module) else None


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def qualified(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The dotted name with its first part replaced by what it was imported as (``ANY`` -> ``zmq.auth...``)."""
    name = dotted(node)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    full = aliases.get(head, head)
    return f"{full}.{rest}" if rest else full


def last_name(node: ast.AST | None) -> str | None:
    """The name a value is stored under: ``x``, ``obj.x``, ``d["x"]``; None when there is none."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _assigned_in(scope: ast.AST, name: str) -> ast.AST | None:
    found: ast.AST | None = None
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            found = node.value if node.value is not None else found
    return found


def resolve(node: ast.AST, hops: int = 3) -> ast.AST:
    """Follow a bare name to the value last assigned to it in its function, then its module (a heuristic: no
    control flow, only a few hops), so ``opts = {...}; jwt.decode(t, options=opts)`` is judged on ``{...}``."""
    current = node
    for _ in range(hops):
        if not isinstance(current, ast.Name):
            return current
        value: ast.AST | None = None
        for scope in (scope_of(node), module_of(node)):
            if scope is not None:
                value = _assigned_in(scope, current.id)
                if value is not None:
                    break
        if value is None:
            return current
        current = value
    return current


def constant(node: ast.AST) -> object:
    """The value of a literal expression (after ``resolve``), or None; allows ``600_000``, ``10 ** 5``, lists."""
    node = resolve(node)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [constant(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = constant(node.operand)
        return -inner if isinstance(inner, int) else None
    if isinstance(node, ast.BinOp):
        left, right = constant(node.left), constant(node.right)
        if isinstance(left, int) and isinstance(right, int) and not isinstance(left, bool):
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Pow) and 0 <= right < 64:
                return int(left**right)
            if isinstance(node.op, ast.Add):
                return left + right
        if isinstance(left, (str, bytes)) and type(left) is type(right) and isinstance(node.op, ast.Add):
            return left + right  # type: ignore[operator]
    return None


def keyword(call: ast.Call, name: str) -> ast.AST | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def argument(call: ast.Call, position: int, name: str) -> ast.AST | None:
    """A call's argument given either by position or by keyword."""
    found = keyword(call, name)
    if found is not None:
        return found
    if position < len(call.args) and not isinstance(call.args[position], ast.Starred):
        return call.args[position]
    return None


def call_name(call: ast.Call, context: Any) -> str:
    """The call's qualified name as bandit resolved it through the module's imports."""
    return qualified(call.func, context.import_aliases) or ""


def names_in(node: ast.AST) -> Iterator[ast.AST]:
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Name, ast.Attribute)):
            yield sub
