"""``aico-secure conform --controls``: measure the suite's power against the negative-control zoo.

A control is caught when every requirement in its ``BREAKS`` comes out "fail" or "error". Each control runs in
its own pytest process restricted to the tests of the requirements it breaks (``--aico-requirements``), so
the zoo runs in minutes; the reference build's full pass is checked by the ordinary conformance run.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aico_secure.conform.runner import INI
from aico_secure.conform.suite import controls_dir, example_controls_dir, suite_dir

CAUGHT_OUTCOMES = {"fail", "error"}
CONTROL_TIMEOUT = 1800  # seconds for one control's whole run; past it the control counts as missed


@dataclass(frozen=True)
class Control:
    name: str
    breaks: tuple[str, ...]
    summary: str
    path: Path

    @property
    def target_spec(self) -> str:
        if self.path.parent == example_controls_dir():
            return f"{self.path.parent.name}.{self.name}:build"
        suite = suite_dir()
        package = "aico_secure._suite" if suite.name == "_suite" else suite.name
        return f"{package}.controls.{self.name}:build"

    @property
    def import_root(self) -> Path:
        """The directory to put on ``sys.path`` for ``target_spec`` to import."""
        if self.path.parent == example_controls_dir():
            return self.path.parent.parent
        return suite_dir().parent


@dataclass
class ControlResult:
    control: Control
    outcomes: dict[str, str] = field(default_factory=dict)
    error: str = ""

    @property
    def caught(self) -> bool:
        return not self.error and all(self.outcomes.get(r) in CAUGHT_OUTCOMES for r in self.control.breaks)


class ControlDefinitionError(Exception):
    """A control module lacks BREAKS or build(), or names no requirement."""


class ReferenceMissing(Exception):
    """This install lacks the reference build's libraries, and every shipped control is the reference build with
    one flaw: each would fail to load, which proves nothing about the suite's power."""


def require_reference() -> None:
    try:
        importlib.import_module("aico_secure.reference")
    except ModuleNotFoundError as exc:
        raise ReferenceMissing("the negative controls are built on the reference build, which needs "
                               f"pip install 'aico-secure[reference]' ({exc})") from None


def discover(directory: Path | None = None) -> list[Control]:
    """Read each control's BREAKS and docstring statically, without importing (and so running) it. Without a
    ``directory``: the shipped zoo, and in a checkout also the controls built on the outside examples."""
    if directory is None:
        examples = example_controls_dir()
        return discover(controls_dir()) + (discover(examples) if examples is not None else [])
    controls = []
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        breaks: tuple[str, ...] = ()
        has_build = False
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "BREAKS" for t in node.targets):
                breaks = tuple(ast.literal_eval(node.value))
            if isinstance(node, ast.FunctionDef) and node.name == "build":
                has_build = True
        if not breaks or not has_build:
            raise ControlDefinitionError(f"control {path.name} needs a non-empty BREAKS and a build() factory")
        summary = (ast.get_docstring(tree) or "").strip().splitlines()[0] if ast.get_docstring(tree) else path.stem
        controls.append(Control(path.stem, breaks, summary, path))
    return controls


def run_control(control: Control, profile: str = "quick") -> ControlResult:
    suite = suite_dir()
    with tempfile.TemporaryDirectory(prefix="aico-control-") as tmp:
        command = [sys.executable, "-m", "pytest", str(suite), "-c", str(INI), "--rootdir", str(suite), "-q",
                   "-p", "no:randomly", f"--aico-target={control.target_spec}", f"--aico-profile={profile}",
                   f"--aico-requirements={','.join(control.breaks)}", f"--aico-report-dir={tmp}",
                   "--aico-report-format=json"]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(control.import_root), str(suite.parent),
                                                          env.get("PYTHONPATH", "")]))
        try:
            proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                                  stdin=subprocess.DEVNULL, timeout=CONTROL_TIMEOUT)
        except subprocess.TimeoutExpired:
            return ControlResult(control, error=f"no verdict within {CONTROL_TIMEOUT} s: not caught")
        reports = list(Path(tmp).glob("*.json"))
        if not reports:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
            return ControlResult(control, error="no report written: " + " | ".join(tail))
        data = json.loads(reports[0].read_text())
    return ControlResult(control, {r["id"]: r["outcome"] for r in data["requirements"]})


def run_all(controls: list[Control], *, workers: int = 2, profile: str = "quick",
            progress: Callable[[ControlResult], None] | None = None) -> list[ControlResult]:
    results: list[ControlResult] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for result in pool.map(lambda c: run_control(c, profile), controls):
            results.append(result)
            if progress:
                progress(result)
    return results


def power_table(results: list[ControlResult]) -> tuple[str, float]:
    caught = sum(r.caught for r in results)
    power = caught / len(results) if results else 0.0
    lines = [f"{'control':34s} {'caught':7s} breaks -> outcomes"]
    for r in results:
        detail = r.error or ", ".join(f"{rid}={r.outcomes.get(rid, 'missing')}" for rid in r.control.breaks)
        lines.append(f"{r.control.name:34s} {'yes' if r.caught else 'NO':7s} {detail}")
    by_requirement: dict[str, list[str]] = {}
    for r in results:
        for rid in r.control.breaks:
            by_requirement.setdefault(rid, []).append(r.control.name + ("" if r.caught else " (missed)"))
    lines.append("")
    lines.append("per-requirement map:")
    lines += [f"  {rid}: {', '.join(names)}" for rid, names in sorted(by_requirement.items())]
    lines.append("")
    lines.append(f"suite power: {caught}/{len(results)} controls caught = {power:.0%}")
    return "\n".join(lines), power
