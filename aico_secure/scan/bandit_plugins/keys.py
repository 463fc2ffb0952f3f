"""Key material in the source or written out as text: AICO-S101 and AICO-S107.

A component's CurveZMQ secret key in the source makes every copy of the repository that component, so the bus's
allowlist of public keys authenticates nothing. A master or data key hex- or base64-encoded into a file is a
stored key, whatever the encoding.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from aico_secure.scan.bandit_plugins._common import (
    ancestors,
    argument,
    call_name,
    constant,
    issue,
    last_name,
    rule,
    scope_of,
)
from aico_secure.scan.bandit_plugins._shapes import Z85_ALPHABET, key_material_name, key_shaped, secret_key_name

_DECODERS = ("fromhex", "unhexlify", "b64decode", "urlsafe_b64decode", "decode", "encode", "a2b_hex", "z85.decode")


def _literal_key(node: ast.AST | None) -> ast.AST | None:
    """The literal holding a key, seen through ``.encode()``, ``bytes.fromhex()``, ``z85.decode()``, ``+`` and
    f-strings; None when the value is not a key-shaped literal."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        return node if key_shaped(node.value) else None
    if isinstance(node, ast.JoinedStr):
        parts = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        if any(key_shaped(p) for p in parts) or key_shaped("".join(parts)):
            return node
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        joined = constant(node)
        if isinstance(joined, (str, bytes)):
            return node if key_shaped(joined) else None
        return _literal_key(node.left) or _literal_key(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _DECODERS:
        if isinstance(node.func.value, ast.Constant):  # "...".encode()
            return _literal_key(node.func.value)
        if node.args:  # bytes.fromhex("..."), z85.decode(b"...")
            return _literal_key(node.args[0])
    return None


def _pairs(node: ast.AST) -> Iterator[tuple[str | None, ast.AST]]:
    """(name the value is stored or passed under, value) for each place a secret key can be given."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, (ast.Tuple, ast.List)) and isinstance(node.value, (ast.Tuple, ast.List)):
                yield from zip((last_name(t) for t in target.elts), node.value.elts, strict=False)
            else:
                yield last_name(target), node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        yield last_name(node.target), node.value
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if key is not None:
                yield last_name(key), value
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = node.args
        positional = args.posonlyargs + args.args
        for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True):
            yield arg.arg, default
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if kw_default is not None:
                yield arg.arg, kw_default
    elif isinstance(node, ast.Call):
        for kw in node.keywords:
            yield kw.arg, kw.value
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if method in {"setsockopt", "setsockopt_string", "set"} and len(node.args) >= 2:
            yield last_name(node.args[0]), node.args[1]  # sock.setsockopt(zmq.CURVE_SECRETKEY, ...)
        elif method in {"curve_public", "setattr"} and node.args:
            # curve_public(secret) derives the public half from a secret; setattr(sock, "curve_secretkey", ...)
            if method == "curve_public":
                yield "secret", node.args[0]
            elif len(node.args) == 3:
                yield last_name(node.args[1]), node.args[2]


_EMBEDDED = re.compile(
    r"(?:secret|private)[\w.-]*[\"']?\s*[:=]\s*[\"']?(?:[" + re.escape(Z85_ALPHABET) + r"]{40}|[0-9a-fA-F]{64})",
    re.IGNORECASE,
)


@rule("AICO-S101", "Assign", "AnnAssign", "Dict", "FunctionDef", "AsyncFunctionDef", "Call", "Str")
def aico_hardcoded_secret_key(context: Any) -> Any:
    node = context.node
    if isinstance(node, ast.Constant):  # a secret embedded in a longer string: "curve_secretkey=<z85>"
        if isinstance(node.value, str) and _EMBEDDED.search(node.value):
            return issue("AICO-S101", "Secret key embedded in a string literal; load it from a protected file.", node)
        return None
    for name, value in _pairs(node):
        if secret_key_name(name):
            literal = _literal_key(value)
            if literal is not None:
                return issue(
                    "AICO-S101",
                    f"Hard-coded secret key given as '{name}'; load it with zmq.auth.load_certificate() or "
                    "generate it (zmq.curve_keypair()) and keep it in a 0600 file.",
                    literal,
                )
    return None


_ENCODERS = {"hex", "b64encode", "urlsafe_b64encode", "standard_b64encode", "b32encode", "b85encode",
             "hexlify", "b2a_hex", "b2a_base64", "encodebytes", "z85.encode"}
_WRITERS = {"write", "write_text", "write_bytes", "writelines", "dump", "safe_dump", "dump_all", "print"}


def _encoded_key(call: ast.Call) -> str | None:
    """The key-named value a call encodes as text (``master_key.hex()``, ``base64.b64encode(dek)``)."""
    func = call.func
    method = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if method not in _ENCODERS:
        return None
    if method == "hex" and isinstance(func, ast.Attribute) and not call.args:
        subject: ast.AST | None = func.value
    else:
        subject = argument(call, 0, "s")
    name = last_name(subject) if isinstance(subject, (ast.Name, ast.Attribute, ast.Subscript)) else None
    return name if key_material_name(name) else None


def _is_writer(call: ast.Call, context: Any) -> bool:
    func = call.func
    method = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if method == "print":
        return any(kw.arg == "file" for kw in call.keywords)
    if method in {"dump", "safe_dump", "dump_all"}:
        return call_name(call, context).split(".")[0] in {"json", "yaml", "toml", "tomli_w", "pickle", "marshal"}
    return method in _WRITERS


def _flows_to_writer(node: ast.AST, context: Any) -> bool:
    """Whether the value of ``node`` reaches a file write or serialiser: directly (an enclosing call) or through
    names assigned in the same function (``blob = key.hex()`` ... ``f.write(blob)``)."""
    for above in ancestors(node):
        if isinstance(above, ast.Call) and _is_writer(above, context):
            return True
        if isinstance(above, (ast.Assign, ast.AnnAssign)):
            targets = above.targets if isinstance(above, ast.Assign) else [above.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            scope = scope_of(above)
            return bool(names) and scope is not None and _reaches_writer(scope, names, context, hops=2)
        if isinstance(above, ast.stmt):
            return False
    return False


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _reaches_writer(scope: ast.AST, names: set[str], context: Any, hops: int) -> bool:
    if any(isinstance(n, ast.Call) and _is_writer(n, context) and _mentions(n, names) for n in ast.walk(scope)):
        return True
    if hops == 0:
        return False
    derived = {
        t.id
        for stmt in ast.walk(scope)
        if isinstance(stmt, ast.Assign) and _mentions(stmt.value, names)
        for t in stmt.targets
        if isinstance(t, ast.Name)
    } - names
    return bool(derived) and _reaches_writer(scope, names | derived, context, hops - 1)


@rule("AICO-S107", "Call")
def aico_key_written_as_text(context: Any) -> Any:
    call = context.node
    name = _encoded_key(call)
    if name is not None and _flows_to_writer(call, context):
        return issue(
            "AICO-S107",
            f"Key material '{name}' encoded as text and written out; store keys only wrapped (AICO-KM-005).",
            call,
        )
    return None
