"""Lay a project's ``[tool.aico-secure]`` table between the command line and the built-in defaults.

Precedence, for every key: an option given on the command line, then the project file, then the built-in
default (for ``cache-dir``: the command line, ``$AICO_SECURE_CACHE_DIR``, the project file, the platform's
user cache; see ``cache``). A list given on the command line (``--format``, ``--requirement``) replaces the
file's list; it is not added to it.

How "given on the command line" is told apart from "left at its default": the arguments are parsed a second
time with the command's defaults replaced by ``argparse.SUPPRESS``, so only what the user typed lands in that
namespace. The first, ordinary parse is the one whose values are used, so ``--help`` (which prints the defaults)
and every usage error behave as they always did.

Values from the file go through the same checks as the command line (the option's ``choices`` and ``type``),
after the schema has checked their shape, so a bad value is a one-line ``ConfigError`` naming the key.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aico_secure.config import cache, project
from aico_secure.config.errors import ConfigError

FROM_CLI = "command line"
FROM_DEFAULT = "default"


@dataclass(frozen=True)
class Key:
    """One key of a command's table and the argparse destination it fills."""

    name: str
    dest: str
    path: bool = False  # a path (or list of paths): relative to the pyproject.toml's folder
    shared: bool = False  # may also be set once at the top level of [tool.aico-secure]
    aliases: tuple[str, ...] = ()  # other spellings of the same option: any of them given wins over the file
    env: str | None = None  # an environment variable between the command line and the file


KEYS: dict[str, tuple[Key, ...]] = {
    "conform": (
        Key("target", "target", shared=True), Key("profile", "profile"), Key("output", "output", path=True),
        Key("formats", "formats", aliases=("report_format",)), Key("requirements", "requirements"),
        Key("waivers", "waivers", path=True), Key("baseline", "baseline", path=True), Key("workers", "workers"),
        Key("test-timeout", "test_timeout"), Key("load-timeout", "load_timeout"), Key("quiet", "quiet"),
        Key("cache-dir", "cache_dir", path=True, shared=True, env=cache.ENV),
    ),
    "inspect": (
        Key("target", "target", shared=True), Key("formats", "format"), Key("output", "output", path=True),
        Key("canaries", "canary"), Key("canary-file", "canary_file", path=True),
        Key("vector-canary", "vector_canary", path=True), Key("production-kdf", "production_kdf"),
        Key("file-time-budget", "file_time_budget"), Key("time-budget", "time_budget"),
    ),
    "scan": (
        Key("formats", "format"), Key("output", "output", path=True), Key("only", "only"),
        Key("baseline", "baseline", path=True), Key("requirements", "requirements", path=True),
        Key("osv-db", "osv_db", path=True), Key("osv-url", "osv_url"), Key("env", "env", path=True),
    ),
}
COMMANDS = tuple(KEYS)


@dataclass(frozen=True)
class Setting:
    """A resolved option and where its value came from (``config show`` prints both)."""

    key: str
    value: Any
    source: str


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="read [tool.aico-secure] from this pyproject.toml "
                        "(default: the nearest pyproject.toml from the current directory up to the repository "
                        "root)")


def subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse keeps no public handle on its sub-parsers
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            found: argparse.ArgumentParser = action.choices[command]
            return found
    raise KeyError(command)


def given_options(parser: argparse.ArgumentParser, owner: argparse.ArgumentParser,
                  argv: Sequence[str] | None) -> dict[str, Any]:
    """What the user typed for ``owner``'s options: ``argv`` parsed by ``parser`` with ``owner``'s defaults
    suppressed (and restored afterwards, so help texts and later parses see them)."""
    saved = [(action, action.default) for action in owner._actions]
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        return dict(vars(parser.parse_args(argv)))
    finally:
        for action, default in saved:
            action.default = default


def _actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {action.dest: action for action in parser._actions}


def _exclusive_mates(parser: argparse.ArgumentParser, dest: str) -> set[str]:
    mates: set[str] = set()
    for group in parser._mutually_exclusive_groups:
        dests = {action.dest for action in group._group_actions}
        if dest in dests:
            mates |= dests - {dest}
    return mates


def _convert(raw: Any, key: Key, action: argparse.Action, config: project.ProjectConfig, label: str) -> Any:
    """A value from the file, made what argparse would have made of it on the command line."""
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if key.path:
            item = str(config.root / Path(item).expanduser())
        if action.choices is not None and item not in action.choices:
            raise ConfigError(f"{label}: {item!r} is not one of {', '.join(map(str, action.choices))}")
        if callable(action.type) and not isinstance(item, bool):
            try:
                item = action.type(str(item))
            except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else "invalid value"
                raise ConfigError(f"{label}: {reason}") from None
        out.append(item)
    return out if isinstance(raw, list) else out[0]


def _from_file(command: str, key: Key, config: project.ProjectConfig | None) -> tuple[Any, str | None]:
    """The key's value in the command's table, else (for a shared key) at the top level; and which table."""
    if config is None:
        return None, None
    if key.name in config.section(command):
        return config.section(command)[key.name], command
    if key.shared and key.name in config.table:
        return config.table[key.name], None
    return None, None


def layer(command: str, parser: argparse.ArgumentParser, given: dict[str, Any], parsed: dict[str, Any],
          config: project.ProjectConfig | None) -> dict[str, Setting]:
    """Every configurable option of ``command``: its value and where it came from. ``given`` is what the user
    typed (``given_options``), ``parsed`` the ordinary parse (the built-in defaults where nothing was given),
    ``parser`` the command's sub-parser (its choices, types and mutually exclusive groups)."""
    actions = _actions(parser)
    resolved: dict[str, Setting] = {}
    for key in KEYS[command]:
        action = actions.get(key.dest)
        if action is None:  # the command's options were not built (never the case for a command that runs)
            continue
        if any(dest in given for dest in (key.dest, *key.aliases)):
            resolved[key.dest] = Setting(key.name, parsed.get(key.dest), FROM_CLI)
            continue
        environment = cache.from_environment() if key.env else None
        if environment is not None:
            resolved[key.dest] = Setting(key.name, str(environment), f"environment {key.env}")
            continue
        raw, table = _from_file(command, key, config)
        mates = _exclusive_mates(parser, key.dest)
        if raw is not None and config is not None and not mates & set(given):
            label = f"{config.dotted(table, key.name)} in {config.shown}"
            clash = [s.key for dest, s in resolved.items()
                     if dest in mates and s.source not in (FROM_CLI, FROM_DEFAULT)]
            if clash:
                raise ConfigError(f"{label}: cannot be used together with {clash[0]}")
            resolved[key.dest] = Setting(key.name, _convert(raw, key, action, config, label), config.where(table))
            continue
        default = str(cache.platform_default()) if key.env else parsed.get(key.dest)
        resolved[key.dest] = Setting(key.name, default, FROM_DEFAULT)
    return resolved


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """``parser.parse_args(argv)`` with the project's configuration laid in for the chosen command."""
    args = parser.parse_args(argv)
    command = getattr(args, "command", None)
    if command not in KEYS:
        return args
    sub = subparser(parser, command)
    given = given_options(parser, sub, argv)
    config = project.load(getattr(args, "config", None))
    for dest, setting in layer(command, sub, given, vars(args), config).items():
        setattr(args, dest, setting.value)
    return args
