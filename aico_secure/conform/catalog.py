"""The requirement catalog, loaded from YAML and validated against its JSON schema before any use."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from aico_secure.conform.optional import UnknownOperation, checked
from aico_secure.conform.suite import catalog_path, catalog_schema_path


class CatalogError(Exception):
    """The catalog file is missing, malformed or inconsistent (duplicate IDs)."""


@dataclass(frozen=True)
class Requirement:
    id: str
    area: str
    title: str
    section: str
    severity: str
    asvs: tuple[str, ...] = field(default_factory=tuple)
    masvs: tuple[str, ...] = field(default_factory=tuple)
    # The optional operations of the target contract this requirement is about (``conform.optional``): a build
    # lacking any other one must still get a verdict on it.
    exercises: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Catalog:
    version: int
    requirements: tuple[Requirement, ...]

    def ids(self) -> list[str]:
        return [r.id for r in self.requirements]

    def get(self, requirement_id: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == requirement_id), None)


def load_catalog(path: Path | None = None, schema_path: Path | None = None) -> Catalog:
    path = path or catalog_path()
    schema_path = schema_path or catalog_schema_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as exc:
        raise CatalogError(f"cannot read requirement catalog {path}: {exc}") from None
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise CatalogError(f"requirement catalog {path} is invalid at {where}: {exc.message}") from None
    try:
        requirements = tuple(
            Requirement(
                id=r["id"], area=r["area"], title=r["title"], section=r["section"], severity=r["severity"],
                asvs=tuple(r["references"].get("asvs", [])), masvs=tuple(r["references"].get("masvs", [])),
                exercises=checked(r["exercises"]),
            )
            for r in data["requirements"]
            if r.get("status", "active") == "active"
        )
    except UnknownOperation as exc:
        raise CatalogError(f"requirement catalog {path}: {exc}") from None
    seen: set[str] = set()
    for r in requirements:
        if r.id in seen:
            raise CatalogError(f"requirement catalog {path} lists {r.id} twice")
        seen.add(r.id)
    return Catalog(version=data["catalog_version"], requirements=requirements)


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    return load_catalog()
