"""The configuration scanner: settings that undo a security property no matter how good the code is.

Reads every YAML, TOML, JSON, INI (``.ini``, ``.cfg``) and dotenv (``.env``, ``.env.*``, ``*.env``) file under
the root, walks the parsed structure with its key path and applies the AICO-C2xx rules
(``aico_secure/scan/config_rules.py``). Directories that hold other people's files or generated output are not
entered: ``.git``, ``node_modules``, ``.venv``/``venv``, ``__pycache__``, ``.tox``, ``.mypy_cache``,
``.ruff_cache``, ``.pytest_cache``. Lockfiles (``poetry.lock``, ``uv.lock``, ``Pipfile.lock``,
``package-lock.json``, ...) are dependency data for the dependency scanner, not settings, and are not read.
Everything else that is not read is said in ``problems``: a file over the size bound, a file that does not parse,
a structure too large to walk, a symbolic link leading out of the tree.

Line numbers: YAML keys carry the composer's node marks (``yaml.compose_all``), exact. TOML, JSON and INI parsers
keep no positions, so the line is found by searching the key's text (``key =``, ``"key":``, ``[table]``) from the
line of its parent onwards, in document order; a key whose text cannot be found gets its parent's line.
"""

from __future__ import annotations

import configparser
import ipaddress
import itertools
import json
import os
import re
import stat
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from aico_secure.scan import config_rules as rules
from aico_secure.scan._scanner.interface import Scanner, ScanOptions
from aico_secure.scan.model import Finding, ScannerResult

SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
)
LOCKFILES = frozenset(
    {"poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock"}
)
MAX_FILE_BYTES = 1024 * 1024  # settings files are small; anything larger is data and is reported, not read
MAX_NODES = 200_000  # bounds alias bombs and huge documents

_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json", ".ini": "ini", ".cfg": "ini"}


def iter_tree(root: Path, accept: Callable[[Path], bool], max_bytes: int) -> tuple[list[Path], list[str]]:
    """The files under ``root`` that ``accept`` wants, in a stable order, and why any of them were not taken.

    Symbolic links (files and directories) are not followed: one that points inside the tree adds nothing (its
    target is read anyway), one that points outside is reported, since the tree's configuration would then
    depend on another tree. Only regular files are opened: a FIFO named ``settings.yaml`` would block forever."""
    root_resolved = root.resolve()
    files: list[Path] = []
    problems: list[str] = []

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "?"
        problems.append(f"{where}/: directory cannot be listed ({exc.strerror}), not read")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in dirnames:
            link = Path(dirpath) / name
            if link.is_symlink() and not link.resolve().is_relative_to(root_resolved):
                problems.append(f"{link.relative_to(root).as_posix()}/: symbolic link out of the tree, not followed")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not accept(path):
                continue
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root_resolved):
                    problems.append(f"{rel}: symbolic link out of the tree, not followed")
                continue
            try:
                info = path.stat()
            except OSError as exc:
                problems.append(f"{rel}: cannot be read ({exc.strerror})")
                continue
            if not stat.S_ISREG(info.st_mode):
                problems.append(f"{rel}: not a regular file (a FIFO or device would block the scan), not read")
                continue
            size = info.st_size
            if size > max_bytes:
                problems.append(f"{rel}: {size} bytes, over the {max_bytes}-byte bound, not read")
                continue
            files.append(path)
    return files, problems


def out_of_time(options: ScanOptions, left: int) -> str:
    return f"time bound of {options.timeout_seconds:g} s reached with {left} file(s) not read"


def config_kind(path: Path) -> str | None:
    name = path.name
    if name in LOCKFILES:
        return None
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "env"
    return _SUFFIXES.get(path.suffix.lower())


# ------------------------------------------------------------------------------------------------ parsed form


@dataclass
class Scalar:
    value: object
    line: int
    reference: bool = False  # a YAML tag such as ``!env`` / ``!vault``: the value names a secret, it is not one


@dataclass
class Item:
    key: str
    value: Node
    line: int


@dataclass
class Mapping:
    items: list[Item] = field(default_factory=list)


@dataclass
class Sequence:
    items: list[Node] = field(default_factory=list)


Node = Scalar | Mapping | Sequence


class _TooLarge(Exception):
    pass


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_NODES

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooLarge


_YAML_STANDARD_TAG = "tag:yaml.org,2002:"


def _from_yaml(node: yaml.Node, budget: _Budget, constructor: yaml.constructor.SafeConstructor) -> Node:
    budget.spend()
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        mapping = Mapping()
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, yaml.ScalarNode) else "?"
            mapping.items.append(Item(str(key), _from_yaml(vnode, budget, constructor), knode.start_mark.line + 1))
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return Sequence([_from_yaml(n, budget, constructor) for n in node.value])
    tag = str(node.tag)
    if not tag.startswith(_YAML_STANDARD_TAG):
        return Scalar(str(node.value), line, reference=True)
    try:
        value = constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError):
        value = str(node.value)
    return Scalar(value, line)


def _parse_yaml(text: str) -> list[Node]:
    budget = _Budget()
    constructor = yaml.constructor.SafeConstructor()
    docs = yaml.compose_all(text, Loader=yaml.SafeLoader)
    return [_from_yaml(d, budget, constructor) for d in docs if d is not None]


class _KeyLines:
    """Finds the line of a key's text for parsers that keep no positions (see the module docstring)."""

    def __init__(self, text: str, pattern: Callable[[str], re.Pattern[str]]) -> None:
        self.lines = text.splitlines()
        self.pattern = pattern

    def find(self, key: str, start: int) -> int:
        rx = self.pattern(key)
        for index in range(max(start - 1, 0), len(self.lines)):
            if rx.search(self.lines[index]):
                return index + 1
        for index in range(min(start - 1, len(self.lines))):
            if rx.search(self.lines[index]):
                return index + 1
        return max(start, 1)


def _from_python(obj: object, lines: _KeyLines, line: int, budget: _Budget) -> tuple[Node, int]:
    """Converts a parsed value, locating keys in document order; returns the node and the last line used."""
    budget.spend()
    if isinstance(obj, dict):
        mapping = Mapping()
        cursor = line
        for key, value in obj.items():
            key_line = lines.find(str(key), cursor)
            child, last = _from_python(value, lines, key_line, budget)
            mapping.items.append(Item(str(key), child, key_line))
            cursor = max(key_line, last)
        return mapping, cursor
    if isinstance(obj, list):
        seq = Sequence()
        cursor = line
        for value in obj:
            child, cursor = _from_python(value, lines, cursor, budget)
            seq.items.append(child)
        return seq, cursor
    return Scalar(obj, line), line


def _toml_key(key: str) -> re.Pattern[str]:
    k = re.escape(key)
    return re.compile(rf"""(?:^|[\s.\[{{,])["']?{k}["']?\s*(?:=|\]|\.)""")


def _json_key(key: str) -> re.Pattern[str]:
    return re.compile(re.escape(json.dumps(key)) + r"\s*:")


def _ini_key(key: str) -> re.Pattern[str]:
    k = re.escape(key)
    return re.compile(rf"^\s*(?:\[\s*{k}\s*\]|{k}\s*[=:])", re.IGNORECASE)


def _parse_toml(text: str) -> list[Node]:
    data = tomllib.loads(text)
    return [_from_python(data, _KeyLines(text, _toml_key), 1, _Budget())[0]]


def _parse_json(text: str) -> list[Node]:
    data = json.loads(text)
    return [_from_python(data, _KeyLines(text, _json_key), 1, _Budget())[0]]


def _parse_ini(text: str) -> list[Node]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    data: dict[str, dict[str, str]] = {}
    if parser.defaults():
        data[parser.default_section] = dict(parser.defaults())
    for section in parser.sections():
        data[section] = {k: v for k, v in parser.items(section, raw=True) if k not in parser.defaults()}
    return [_from_python(data, _KeyLines(text, _ini_key), 1, _Budget())[0]]


_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$")


def _parse_env(text: str) -> list[Node]:
    mapping = Mapping()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(raw)
        if match is None:
            raise ValueError(f"line {number} is not KEY=VALUE")
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        mapping.items.append(Item(match.group(1), Scalar(value, number), number))
    return [mapping]


_PARSERS: dict[str, Callable[[str], list[Node]]] = {
    "yaml": _parse_yaml,
    "toml": _parse_toml,
    "json": _parse_json,
    "ini": _parse_ini,
    "env": _parse_env,
}

# ------------------------------------------------------------------------------------------------ value helpers


def tokens(key: str) -> list[str]:
    """``CURVE_ALLOW_ANY``, ``curve-allow-any`` and ``curveAllowAny`` all give ``[curve, allow, any]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower()
    return [t for t in re.split(r"[^a-z0-9]+", spaced) if t]


def _scalars(node: Node) -> Iterator[Scalar]:
    if isinstance(node, Scalar):
        yield node
    elif isinstance(node, Sequence):
        for child in node.items:
            if isinstance(child, Scalar):
                yield child


def truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in {"true", "yes", "on", "1"}


def as_int(value: object) -> int | None:
    """An integer setting, as a number or a numeric string (``"65536"``, ``"600_000"``); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d[\d_]*\s*", value):
        return int(value.strip().replace("_", ""))
    return None


_MEMORY_VALUE = re.compile(r"^\s*(\d[\d_]*)\s*([kmg])?(i?b)?\s*$", re.IGNORECASE)
_UNIT_KIB = {"k": 1, "m": 1024, "g": 1024 * 1024}


def _memory_kib(value: object, key_tokens: list[str]) -> int | None:
    """Argon2 memory in KiB: argon2-cffi's ``memory_cost`` unit unless the key or the value says otherwise."""
    if isinstance(value, str):
        match = _MEMORY_VALUE.match(value)
        if match is None:
            return None
        number = int(match.group(1).replace("_", ""))
        if match.group(2):
            return number * _UNIT_KIB[match.group(2).lower()]
    else:
        parsed = as_int(value)
        if parsed is None:
            return None
        number = parsed
    if {"mib", "mb"} & set(key_tokens):
        return number * 1024
    if {"gib", "gb"} & set(key_tokens):
        return number * 1024 * 1024
    if {"bytes", "memlimit"} & set(key_tokens):
        return number // 1024
    return number


_UNSPECIFIED_HOSTS = {"*", "", "0"}


def is_wildcard_bind(value: str) -> bool:
    """``0.0.0.0``, ``::``, ``*``, ``tcp://*:5555``, ``[::]:8443``, ``:8080``: every interface."""
    rest = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value.strip(), flags=re.IGNORECASE)
    rest = rest.split("/", 1)[0]
    if rest.startswith("["):
        host = rest[1 : rest.find("]")] if "]" in rest else rest[1:]
    elif rest.count(":") >= 2:
        host = rest
    elif ":" in rest:
        host, port = rest.split(":", 1)
        if host == "" and not port.isdigit():
            return False
    else:
        host = rest
    if host in _UNSPECIFIED_HOSTS:
        return rest != "" and (host != "" or rest.startswith(":"))
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


_TLS_NAMED = re.compile(r"(ssl|tls)\s*v?\s*(\d)(?:[._](\d))?", re.IGNORECASE)
_TLS_BARE = re.compile(r"^\s*v?1[._](\d)\s*$")


def tls_versions(value: object, bare_numbers: bool) -> list[tuple[int, int]]:
    """The protocol versions a setting names, as (1, minor) for TLS and (0, n) for SSL."""
    text = str(value) if isinstance(value, str | float | int) and not isinstance(value, bool) else ""
    found: list[tuple[int, int]] = []
    for match in _TLS_NAMED.finditer(text):
        if match.group(1).lower() == "ssl":
            found.append((0, int(match.group(2))))
        elif match.group(2) == "1":
            found.append((1, int(match.group(3) or 0)))
    if not found and bare_numbers:
        bare = _TLS_BARE.match(text)
        if bare:
            found.append((1, int(bare.group(1))))
    return found


_PLACEHOLDER = re.compile(
    r"^(?:\$\{[^}]*\}|\$[A-Za-z_]\w*|\{\{.*\}\}|<[^>]*>|%\(.*\)s|%[A-Za-z_]\w*%|\*+|x+|\.+|-+|_+"
    r"|(?:env|vault|file|secret|secrets|keyring|op|aws-sm|gcp-sm)\s*:.*|your[_-].*)$",
    re.IGNORECASE,
)
_PLACEHOLDER_WORDS = {
    "changeme", "change_me", "change-me", "replace_me", "replaceme", "todo", "tbd", "none", "null", "nil",
    "secret", "password", "redacted", "placeholder", "dummy", "example",
}  # fmt: skip


# "package.module:function": entry points name functions after what they do ("hardcoded_secret_key = ...").
_IMPORT_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def is_placeholder(value: str) -> bool:
    """An empty value, an environment or template reference, an import path or a well-known dummy."""
    text = value.strip()
    return (
        not text
        or "${" in text
        or text.lower() in _PLACEHOLDER_WORDS
        or bool(_PLACEHOLDER.match(text) or _IMPORT_REFERENCE.match(text))
    )


_SECRET_WORDS = {"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "secretkey", "privatekey"}
_SECRET_PAIRS = {
    ("api", "key"), ("private", "key"), ("secret", "key"), ("access", "key"), ("signing", "key"),
    ("master", "key"), ("encryption", "key"), ("client", "secret"), ("auth", "token"), ("curve", "secret"),
}  # fmt: skip
_NOT_A_SECRET = {
    "file", "path", "dir", "url", "uri", "endpoint", "name", "id", "ttl", "expiry", "expires", "expire",
    "lifetime", "length", "len", "min", "max", "size", "bits", "count", "limit", "type", "header", "policy",
    "rotation", "timeout", "env", "var", "enabled", "required", "hash", "public", "algorithm", "prefix",
}  # fmt: skip


def is_secret_key(key_tokens: list[str]) -> bool:
    if _NOT_A_SECRET & ({t.removesuffix("s") for t in key_tokens} | set(key_tokens)):
        return False  # "token_ttl", "token lifetimes", "password_file": about a secret, not one
    if _SECRET_WORDS & set(key_tokens):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(key_tokens))


# ------------------------------------------------------------------------------------------------ rules


@dataclass(frozen=True)
class _Hit:
    rule: rules.Rule
    line: int
    message: str
    secret: object = None  # the value to mask in the snippet, for AICO-C207
    key: str = ""


_ALLOW_ANY_CONSTANT = re.compile(r"^\s*(?:[A-Za-z_][\w]*\.)*CURVE_ALLOW_ANY\s*$", re.IGNORECASE)
_BIND_WORDS = {"bind", "host", "listen", "address", "addr", "endpoint", "interface"}
_BIND_NOT = {"allowed", "trusted", "allow", "proxy", "url", "public", "external", "advertised"}
_VERSION_WORDS = {"min", "minimum", "max", "maximum", "version", "versions", "protocol", "protocols"}
_KDF_NAME_KEYS = {"algorithm", "kdf", "type", "name", "scheme", "hasher", "method", "hash"}


def _kdf_of(key_tokens: list[str], path: tuple[str, ...], siblings: Mapping) -> str | None:
    """Which password KDF a setting belongs to: its key, then its enclosing sections nearest first, then a
    sibling that names the algorithm."""
    texts = ["_".join(key_tokens)] + [p.lower() for p in reversed(path)]
    texts += [
        str(i.value.value).lower()
        for i in siblings.items
        if isinstance(i.value, Scalar) and set(tokens(i.key)) & _KDF_NAME_KEYS
    ]
    for text in texts:
        for kdf in ("argon", "pbkdf2", "scrypt"):
            if kdf in text:
                return kdf
    return None


def _pbkdf2_minimum(path: tuple[str, ...], siblings: Mapping) -> tuple[int, str]:
    texts = [p.lower() for p in path] + [
        str(i.value.value).lower().replace("-", "") for i in siblings.items if isinstance(i.value, Scalar)
    ]
    for digest, minimum in rules.PBKDF2_MIN_ITERATIONS.items():
        if any(digest in t for t in texts):
            return minimum, digest
    return rules.PBKDF2_DEFAULT_MIN, "sha256"


def _sibling_memory_kib(siblings: Mapping) -> int:
    """RFC 9106's first recommendation (t=1 with 2 GiB) is stronger than the second: a low time cost is weak
    only without that much memory beside it."""
    for item in siblings.items:
        key_tokens = tokens(item.key)
        if set(key_tokens) & {"memory", "mem", "m", "memlimit"} and isinstance(item.value, Scalar):
            return _memory_kib(item.value.value, key_tokens) or 0
    return 0


def _weak_kdf(item: Item, key_tokens: list[str], path: tuple[str, ...], siblings: Mapping) -> _Hit | None:
    if not isinstance(item.value, Scalar):
        return None
    kdf = _kdf_of(key_tokens, path, siblings)
    value = item.value.value
    words = set(key_tokens)
    where = ".".join((*path, item.key))
    if kdf == "argon":
        if words & {"memory", "mem", "m", "memlimit"}:
            kib = _memory_kib(value, key_tokens)
            if kib is not None and kib < rules.ARGON2_MIN_MEMORY_KIB:
                return _Hit(rules.WEAK_KDF_CONFIG, item.line, f"{where}: Argon2 memory {kib} KiB < 64 MiB")
        elif words & {"time", "t", "iterations", "iteration", "passes", "opslimit", "rounds"}:
            n = as_int(value)
            if n is not None and n < rules.ARGON2_MIN_TIME and _sibling_memory_kib(siblings) < 2 * 1024 * 1024:
                return _Hit(rules.WEAK_KDF_CONFIG, item.line, f"{where}: Argon2 time cost {n} < 3")
    elif kdf == "pbkdf2":
        if words & {"iterations", "iteration", "iter", "iters", "rounds", "count", "c"}:
            n = as_int(value)
            minimum, digest = _pbkdf2_minimum(path, siblings)
            if n is not None and n < minimum:
                return _Hit(rules.WEAK_KDF_CONFIG, item.line, f"{where}: PBKDF2-{digest} {n} iterations < {minimum}")
    elif kdf == "scrypt":
        n = as_int(value)
        if n is not None and words & {"log", "ln", "logn"} and n < 17:
            return _Hit(rules.WEAK_KDF_CONFIG, item.line, f"{where}: scrypt log2(N) {n} < 17")
        if n is not None and words & {"n", "cost", "cpu"} and not words & {"log", "ln", "logn"}:
            if n < rules.SCRYPT_MIN_N:
                return _Hit(rules.WEAK_KDF_CONFIG, item.line, f"{where}: scrypt N {n} < 2^17")
    return None


def _check_item(item: Item, path: tuple[str, ...], siblings: Mapping) -> Iterator[_Hit]:
    if len(item.key.split()) >= 3:
        return  # prose ("token lifetimes after restart"): a report's label, not a setting's name
    key_tokens = tokens(item.key)
    words = set(key_tokens)
    context = set(key_tokens).union(*(tokens(p) for p in path)) if path else set(key_tokens)
    where = ".".join((*path, item.key))
    value = item.value.value if isinstance(item.value, Scalar) else None

    if key_tokens[-2:] == ["allow", "any"] and truthy(value):
        yield _Hit(rules.CURVE_ALLOW_ANY, item.line, f"{where}: CURVE accepts any client key")
    elif any(isinstance(s.value, str) and _ALLOW_ANY_CONSTANT.match(s.value) for s in _scalars(item.value)):
        yield _Hit(rules.CURVE_ALLOW_ANY, item.line, f"{where}: CURVE_ALLOW_ANY")
    elif "curve" in context and "location" in words and value == "*":
        yield _Hit(rules.CURVE_ALLOW_ANY, item.line, f"{where}: CURVE key location '*' accepts any key")

    if words & _BIND_WORDS and not words & _BIND_NOT:
        for scalar in _scalars(item.value):
            if isinstance(scalar.value, str) and is_wildcard_bind(scalar.value):
                yield _Hit(rules.WILDCARD_BIND, scalar.line, f"{where}: bound to every interface ({scalar.value})")
                break

    if "debug" in words and not words & {"port", "host", "address", "file", "path", "level"} and truthy(value):
        yield _Hit(rules.DEBUG_ON, item.line, f"{where}: debug mode on")

    if words & {"origin", "origins"} and any(s.value == "*" for s in _scalars(item.value)):
        for other in siblings.items:
            other_value = other.value.value if isinstance(other.value, Scalar) else None
            if "credentials" in tokens(other.key) and truthy(other_value):
                yield _Hit(
                    rules.CORS_WILDCARD_CREDENTIALS, item.line, f"{where}: origin '*' with {other.key} enabled"
                )
                break

    if words & _VERSION_WORDS:
        bare = bool(context & {"tls", "ssl", "https"})
        for scalar in _scalars(item.value):
            weak = [v for v in tls_versions(scalar.value, bare) if v < (1, 3)]
            if weak:
                name = f"SSLv{weak[0][1]}" if weak[0][0] == 0 else f"TLS 1.{weak[0][1]}"
                yield _Hit(rules.TLS_BELOW_1_3, scalar.line, f"{where}: allows {name}")
                break

    kdf_hit = _weak_kdf(item, key_tokens, path, siblings)
    if kdf_hit is not None:
        yield kdf_hit

    if is_secret_key(key_tokens) and isinstance(item.value, Scalar) and not item.value.reference:
        secret = item.value.value
        if isinstance(secret, str | int) and not isinstance(secret, bool) and not is_placeholder(str(secret)):
            yield _Hit(rules.SECRET_IN_CONFIG, item.line, f"{where}: literal secret (value masked)", secret, item.key)


def _walk(node: Node, path: tuple[str, ...], budget: _Budget, depth: int = 0) -> Iterator[_Hit]:
    budget.spend()
    if depth > 200:
        raise _TooLarge
    if isinstance(node, Mapping):
        for item in node.items:
            yield from _check_item(item, path, node)
            yield from _walk(item.value, (*path, item.key), budget, depth + 1)
    elif isinstance(node, Sequence):
        for index, child in enumerate(node.items):
            yield from _walk(child, (*path, str(index)), budget, depth + 1)


def mask_line(line: str, key: str, secret: object) -> str:
    """The line as evidence, with everything after the key's separator replaced, and the value nowhere."""
    text = line.strip()
    at = text.lower().find(key.lower())
    if at >= 0:
        seps = [i for i in (text.find(":", at + len(key)), text.find("=", at + len(key))) if i >= 0]
        text = text[: min(seps) + 1] + " ****" if seps else text[: at + len(key)] + " ****"
    else:
        text = "****"
    raw = str(secret)
    if raw and raw in text:
        text = text.replace(raw, "****")
    return text[:200]


class ConfigScanner(Scanner):
    name = "config"

    def __init__(self, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.max_bytes = max_bytes

    def scan(self, root: Path, options: ScanOptions) -> ScannerResult:
        result = ScannerResult(scanner=self.name)
        files, result.problems = iter_tree(root, lambda p: config_kind(p) is not None, self.max_bytes)
        deadline = time.monotonic() + options.timeout_seconds
        for done, path in enumerate(files):
            if time.monotonic() > deadline:
                result.problems.append(out_of_time(options, len(files) - done))
                break
            rel = path.relative_to(root).as_posix()
            kind = config_kind(path)
            assert kind is not None
            try:
                text = path.read_bytes().decode("utf-8-sig")
                docs = _PARSERS[kind](text)
                hits = [h for doc in docs for h in _walk(doc, (), _Budget())]
            except _TooLarge:
                result.problems.append(f"{rel}: structure over {MAX_NODES} nodes or nested too deep, not checked")
                continue
            except (UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError,
                    configparser.Error, ValueError, RecursionError) as exc:  # fmt: skip
                result.problems.append(f"{rel}: does not parse as {kind} ({type(exc).__name__})")
                continue
            result.items_scanned += 1
            result.findings.extend(self._findings(rel, text, hits))
        return result

    def _findings(self, rel: str, text: str, hits: list[_Hit]) -> list[Finding]:
        lines = text.splitlines()
        seen: set[tuple[str, int]] = set()
        found: list[Finding] = []
        for hit in hits:
            if (hit.rule.rule_id, hit.line) in seen:
                continue
            seen.add((hit.rule.rule_id, hit.line))
            source = lines[hit.line - 1] if 0 < hit.line <= len(lines) else ""
            if hit.rule is rules.SECRET_IN_CONFIG:
                snippet = mask_line(source, hit.key, hit.secret)
            else:
                snippet = source.strip()[:200]
            found.append(hit.rule.finding(self.name, rel, hit.line, hit.message, snippet))
        return found
