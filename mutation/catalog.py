"""The mutation configuration and the reviewed list of equivalent mutants, loaded and checked.

Why a module of its own: the bench command and the CI gate must read the same module -> areas map and the
same exclusions, and a typo in either (an unknown area, a module that no longer exists) must stop the run
rather than quietly score fewer mutants.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CONFIG = HERE / "config.yaml"
EQUIVALENT = HERE / "equivalent.yaml"
BASELINE = HERE / "baseline.json"
RESULTS = HERE / "results"
# "equivalent": no build with the change behaves differently; "unobservable": it differs only in something the
# target contract does not expose (a message text, an offset the adapter drops, an internal bound).
EQUIVALENCE_KINDS = ("equivalent", "unobservable")


class ConfigError(ValueError):
    """The configuration or the equivalent list does not describe this checkout."""


@dataclass(frozen=True)
class Group:
    """Modules that share the conformance areas which exercise them."""

    name: str
    areas: tuple[str, ...]
    modules: tuple[str, ...]


@dataclass(frozen=True)
class CiSample:
    """The fixed-seed sample the CI gate runs."""

    seed: int
    size: int
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    """Everything a mutation run needs to know besides the mutants themselves."""

    target: str
    timeout_factor: float
    min_timeout: float
    operators: tuple[str, ...]
    groups: dict[str, Group]
    ci_sample: CiSample

    def group_of(self, module: str) -> Group:
        for group in self.groups.values():
            if module in group.modules:
                return group
        raise ConfigError(f"{module} is in no group")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping")
    return value


def load_config(path: Path = CONFIG, repo: Path = REPO) -> Config:
    """Read ``config.yaml``; every module must exist and every area must be a conformance folder."""
    raw = _mapping(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))
    groups: dict[str, Group] = {}
    for name, spec in _mapping(raw.get("groups"), "groups").items():
        spec = _mapping(spec, f"groups.{name}")
        group = Group(name=str(name), areas=tuple(spec.get("areas") or ()), modules=tuple(spec.get("modules") or ()))
        for area in group.areas:
            if not (repo / "conformance" / area).is_dir():
                raise ConfigError(f"groups.{name}: no conformance area {area!r}")
        for module in group.modules:
            if not (repo / module).is_file():
                raise ConfigError(f"groups.{name}: no module {module}")
        groups[group.name] = group
    ci = _mapping(raw.get("ci_sample"), "ci_sample")
    sample = CiSample(seed=int(ci["seed"]), size=int(ci["size"]), groups=tuple(ci["groups"]))
    unknown = [g for g in sample.groups if g not in groups]
    if unknown:
        raise ConfigError(f"ci_sample.groups: unknown {unknown}")
    return Config(
        target=str(raw["target"]),
        timeout_factor=float(raw.get("timeout_factor", 3.0)),
        min_timeout=float(raw.get("min_timeout", 60)),
        operators=tuple(raw["operators"]),
        groups=groups,
        ci_sample=sample,
    )


@dataclass(frozen=True)
class Equivalence:
    """One reviewed equivalent mutant: the mutated source line pins it, so a drifted id is noticed."""

    mutant_id: str
    line: str
    reason: str
    kind: str = "equivalent"


def load_equivalent(path: Path = EQUIVALENT) -> dict[str, Equivalence]:
    """Read the reviewed list; an entry without a reason is refused (an exclusion must say why)."""
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries: dict[str, Equivalence] = {}
    for mutant_id, spec in _mapping(raw, str(path)).items():
        spec = _mapping(spec, f"{path}: {mutant_id}")
        reason = str(spec.get("reason") or "").strip()
        if not reason:
            raise ConfigError(f"{path}: {mutant_id} has no reason")
        kind = str(spec.get("kind") or "equivalent")
        if kind not in EQUIVALENCE_KINDS:
            raise ConfigError(f"{path}: {mutant_id} has kind {kind!r}, not one of {EQUIVALENCE_KINDS}")
        entries[str(mutant_id)] = Equivalence(str(mutant_id), str(spec.get("line") or "").strip(), reason, kind)
    return entries
