"""Enumerate mutants with cosmic-ray's operators, in memory: the checkout on disk is never touched.

Why in memory: other people work in the same checkout while a run goes on, so a mutant is only ever written
into a sandbox copy (``sandbox.py``). A mutant's id is ``module:operator:occurrence``, the same numbering
cosmic-ray uses, so it is stable while the module's source is unchanged.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import zip_longest
from pathlib import Path
from typing import Any

import cosmic_ray.plugins  # type: ignore[import-untyped]
from cosmic_ray.ast import ast_nodes, get_ast  # type: ignore[import-untyped]
from cosmic_ray.mutating import mutate_code  # type: ignore[import-untyped]

from mutation.catalog import REPO, Config


@dataclass(frozen=True)
class Mutant:
    """One mutation of one module: where it is, what it does and the source it produces."""

    module: str
    operator: str
    occurrence: int
    line: int

    @property
    def mutant_id(self) -> str:
        return f"{self.module}:{self.operator.removeprefix('core/')}:{self.occurrence}"

    def original_line(self, repo: Path = REPO) -> str:
        lines = _source(repo / self.module).splitlines()
        return lines[self.line - 1].strip() if 0 < self.line <= len(lines) else ""

    def mutated_source(self, repo: Path = REPO) -> str:
        code = mutate_code(_source(repo / self.module), _operator(self.operator), self.occurrence)
        if code is None:
            raise LookupError(f"{self.mutant_id}: no such mutation in the current source")
        return str(code)

    def diff(self, repo: Path = REPO) -> str:
        before = _source(repo / self.module).splitlines()
        after = self.mutated_source(repo).splitlines()
        return "\n".join(difflib.unified_diff(before, after, f"a/{self.module}", f"b/{self.module}", lineterm="", n=1))


@cache
def _operator(name: str) -> Any:
    return cosmic_ray.plugins.get_operator(name)()


def _source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def enumerate_module(module: str, operators: Sequence[str], repo: Path = REPO) -> list[Mutant]:
    """Every mutant of ``module`` for the given operators, in cosmic-ray's occurrence order."""
    source = _source(repo / module)
    tree = get_ast(source)
    lazy_annotations = "from __future__ import annotations" in source
    found: list[Mutant] = []
    for name in operators:
        operator = _operator(name)
        positions = ((node, start) for node in ast_nodes(tree) for start, _ in operator.mutation_positions(node))
        for occurrence, (node, start) in enumerate(positions):
            if lazy_annotations and _in_annotation(node):
                continue
            found.append(Mutant(module, name, occurrence, int(start[0])))
    return found


def _in_annotation(node: Any) -> bool:
    """Whether ``node`` is part of a type annotation (a parameter's, a variable's or a return annotation).

    Under ``from __future__ import annotations`` an annotation is never evaluated at run time, so mutating
    one (``X | None`` to ``X & None``) cannot change behaviour: such mutants are equivalent by construction
    and are not generated at all (occurrence numbers keep cosmic-ray's numbering).
    """
    child, parent = node, node.parent
    while parent is not None:
        index = parent.children.index(child)
        before = getattr(parent.children[index - 1], "value", None) if index else None
        if (parent.type == "tfpdef" and before == ":") or (parent.type == "annassign" and index == 1) or (
                parent.type == "funcdef" and before == "->"):
            return True
        child, parent = parent, parent.parent
    return False


def enumerate_all(config: Config, groups: Iterable[str], repo: Path = REPO) -> list[Mutant]:
    """All mutants of the modules in the chosen groups."""
    mutants: list[Mutant] = []
    for group in groups:
        for module in config.groups[group].modules:
            mutants.extend(enumerate_module(module, config.operators, repo))
    return mutants


def sample(mutants: Sequence[Mutant], per_module: int | None, seed: int) -> list[Mutant]:
    """A seeded sample of ``per_module`` mutants from each module (all of them when ``None``).

    Sampling per module, not over the pool, keeps a large module from crowding out a small critical one. The
    result is interleaved round-robin over modules, so a time budget that runs out cuts every module short a
    little instead of leaving the last ones unmeasured.
    """
    rng = random.Random(seed)
    by_module: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_module.setdefault(mutant.module, []).append(mutant)
    picked = [
        pool if per_module is None or per_module >= len(pool) else rng.sample(pool, per_module)
        for _, pool in sorted(by_module.items())
    ]
    return [m for batch in zip_longest(*picked) for m in batch if m is not None]


def sample_pool(mutants: Sequence[Mutant], size: int, seed: int) -> list[Mutant]:
    """A seeded sample of ``size`` mutants over the whole pool (the CI gate's fixed sample)."""
    ordered = sorted(mutants, key=lambda m: m.mutant_id)
    return sorted(random.Random(seed).sample(ordered, min(size, len(ordered))), key=lambda m: m.mutant_id)
