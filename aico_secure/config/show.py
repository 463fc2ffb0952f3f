"""``aico-secure config show``: the options a command would run with, and where each one came from.

Why: with three layers (command line, ``[tool.aico-secure]``, built-in defaults) a release gate's actual options
are no longer visible in the pipeline script; this prints them without running anything, as JSON a pipeline
can keep next to its reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from aico_secure.config import project
from aico_secure.config.errors import ConfigError
from aico_secure.config.layering import COMMANDS, add_config_option, given_options, layer, subparser


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print the resolved options of conform, inspect and scan as JSON, "
                                           "with where each value came from; runs nothing")
    add_config_option(show)
    show.add_argument("shown_command", nargs="?", choices=COMMANDS, metavar="COMMAND",
                      help=f"only this command ({', '.join(COMMANDS)})")
    show.add_argument("arguments", nargs=argparse.REMAINDER, metavar="ARGS",
                      help="that command's arguments, as you would give them: command-line values win")


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def resolved(command: str, arguments: list[str], explicit: str | None) -> tuple[project.ProjectConfig | None,
                                                                                 dict[str, Any]]:
    """``command``'s configurable options as ``arguments`` would run it (the command line parsed for real, so
    its usage errors are the command's own)."""
    from aico_secure.cli.main import build_parser  # the command line imports this module lazily: no cycle

    parser = build_parser(command)
    sub = subparser(parser, command)
    if arguments:
        argv = [command, *arguments]
        parsed = vars(parser.parse_args(argv))
        given = given_options(parser, sub, argv)
        explicit = parsed.get("config") or explicit
    else:  # no arguments: a command with a required argument (inspect DIR) cannot be parsed, nor needs to be
        parsed, given = {action.dest: action.default for action in sub._actions}, {}
    config = project.load(explicit)
    settings = layer(command, sub, given, parsed, config)
    return config, {s.key: {"value": _plain(s.value), "from": s.source} for s in settings.values()}


def run(args: argparse.Namespace) -> int:
    if args.arguments and not args.shown_command:
        raise ConfigError("give the command whose arguments these are: config show COMMAND ARGS")
    commands = [args.shown_command] if args.shown_command else list(COMMANDS)
    shown: dict[str, Any] = {}
    config: project.ProjectConfig | None = None
    for command in commands:
        config, shown[command] = resolved(command, list(args.arguments), args.config)
    document = {"config": str(config.path) if config else None, "commands": shown}
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return 0
