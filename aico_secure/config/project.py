"""Find a project's ``pyproject.toml``, read its ``[tool.aico-secure]`` table and check it against the schema.

Which file: ``--config FILE`` when given (it must exist and be readable); else the nearest ``pyproject.toml``
from the current directory upwards. The search stops at the first folder holding ``.git`` (a repository's root:
a checkout never picks up the settings of whatever folder it was cloned into) and at the filesystem root. The
nearest ``pyproject.toml`` is the project's even without the table: its parents are other projects.

No file, or no ``[tool.aico-secure]`` table, is no configuration: every command runs as it always did. Anything
else that is wrong (unreadable, too large, malformed TOML, an unknown key, a wrong type) is a ``ConfigError``:
a silently ignored setting would gate a release on options nobody chose.

Relative paths in the table are relative to the folder of the ``pyproject.toml``, not to the current directory,
so a setting means the same file from wherever in the project the command runs.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from aico_secure.bounded_read import NotARegularFile, TooLarge, read_at_most
from aico_secure.config.errors import ConfigError

FILENAME = "pyproject.toml"
TABLE = ("tool", "aico-secure")
MAX_BYTES = 1 << 20  # a pyproject.toml is a few KiB; a larger file is refused, not read into memory
SCHEMA = "schema.json"


@dataclass(frozen=True)
class ProjectConfig:
    """The validated table of one file. ``table`` is the ``[tool.aico-secure]`` table as TOML gave it."""

    path: Path
    table: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """The folder relative paths in the table are resolved against."""
        return self.path.parent

    def section(self, command: str) -> dict[str, Any]:
        sub = self.table.get(command, {})
        return sub if isinstance(sub, dict) else {}

    @property
    def shown(self) -> str:
        return shown(self.path)

    def dotted(self, command: str | None, key: str) -> str:
        return _dotted([*([command] if command else []), key])

    def where(self, command: str | None) -> str:
        """Where a value came from, as ``config show`` prints it."""
        table = "tool.aico-secure" + (f".{command}" if command else "")
        return f"{self.shown} [{table}]"


def shown(path: Path) -> str:
    """A path as one printable line (a name with a newline in it must not break the one-line error)."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def find(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``, not crossing a repository root (``.git``)."""
    here = Path(os.path.abspath(start))
    for folder in (here, *here.parents):
        candidate = folder / FILENAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def _read(path: Path) -> bytes:
    """At most ``MAX_BYTES`` of a regular file (``bounded_read``: a FIFO named by --config must not hang the
    command, a huge file must not be read into memory)."""
    try:
        return read_at_most(path, MAX_BYTES)
    except NotARegularFile:
        raise ConfigError(f"{shown(path)} is not a regular file") from None
    except TooLarge:
        raise ConfigError(f"{shown(path)} is larger than {MAX_BYTES} bytes") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {shown(path)}: {exc.strerror or exc}") from None


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources.files(__package__).joinpath(SCHEMA).read_text("utf-8"))
    return loaded


def _dotted(parts: Any) -> str:
    return ".".join(["tool.aico-secure", *(str(p) for p in parts)])


def _check_numbers(value: Any, parts: tuple[Any, ...], path: Path) -> None:
    """TOML has ``inf`` and ``nan``; JSON Schema's bounds do not refuse ``nan`` (every comparison is false)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{_dotted(parts)} in {shown(path)}: {value!r} is not a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(item, (*parts, key), path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_numbers(item, (*parts, index), path)


def validate(table: Any, path: Path) -> None:
    """Check ``table`` against the schema; the first problem is one line naming the key."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(table))
    if error is not None:
        parts = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(error.schema.get("properties", {}))
            unknown = sorted(str(k) for k in error.instance if k not in known)
            hint = ""
            if not parts and any(k in known_command_keys() for k in unknown):
                hint = " (a command's options go in its own table: [tool.aico-secure.conform], .inspect, .scan)"
            raise ConfigError(f"unknown key {_dotted((*parts, unknown[0]))!r} in {shown(path)}{hint}")
        message = error.message.splitlines()[0] if error.message else "invalid value"
        raise ConfigError(f"{_dotted(parts)} in {shown(path)}: {message}")
    _check_numbers(table, (), path)


def known_command_keys() -> set[str]:
    properties = schema()["properties"]
    return {key for command in ("conform", "inspect", "scan") for key in properties[command]["properties"]}


def load(explicit: str | Path | None = None, *, cwd: Path | None = None) -> ProjectConfig | None:
    """The project's validated configuration, or None when there is none (no file, or no table). ``explicit``
    is ``--config FILE``: it must exist, and a file without the table is still "no configuration"."""
    path = Path(explicit) if explicit else find(cwd or Path.cwd())
    if path is None:
        return None
    path = Path(os.path.abspath(path))
    data = _read(path)
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{shown(path)} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown(path)} is not valid TOML: {str(exc).splitlines()[0]}") from None
    tool = document.get(TABLE[0], {})
    if not isinstance(tool, dict) or TABLE[1] not in tool:
        return None
    table = tool[TABLE[1]]
    validate(table, path)
    return ProjectConfig(path, table)
