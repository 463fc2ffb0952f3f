"""Drive every contract surface a build has for a time budget: ``run("pkg.mod:factory", seconds=60, seed=1)``.

Fail closed: a surface the build lacks, or whose setup failed, ran nothing and makes the result incomplete;
``complete`` is true only when every requested surface ran inputs for its share of the budget (or until a fatal
finding stopped it, which is a result in its own right). The same seed gives the same inputs, so a finding's
reproducer (seed, surface, step) replays it.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aico_secure.fuzz.contract.bus import BusSurface
from aico_secure.fuzz.contract.gateway import GatewaySurface
from aico_secure.fuzz.contract.interface import (
    FATAL_KINDS,
    ContractSurface,
    Finding,
    RandomSource,
    SurfaceUnavailable,
    provider_source,
)
from aico_secure.fuzz.contract.stored import StoredSurface
from aico_secure.target import Target
from aico_secure.target.loader import load_target

SURFACES: dict[str, Callable[[], ContractSurface]] = {
    "stored": StoredSurface,
    "bus": BusSurface,
    "gateway": GatewaySurface,
}
MAX_FINDINGS_PER_SURFACE = 20  # past this a surface stops: the build is broken there, more adds nothing


@dataclass
class ContractFuzzResult:
    findings: list[Finding] = field(default_factory=list)
    iterations: dict[str, int] = field(default_factory=dict)  # inputs fed, per surface
    complete: bool = False
    not_run: dict[str, str] = field(default_factory=dict)  # surface -> why it ran nothing

    @property
    def ok(self) -> bool:
        """Nothing found and everything ran: the only outcome that may be reported as a pass."""
        return self.complete and not self.findings


def run(target_spec: str | Target, *, seconds: float, seed: int, surfaces: Sequence[str] | None = None,
        max_steps: int | None = None, stop_on_finding: bool = False, workdir: Path | None = None,
        ) -> ContractFuzzResult:
    """Fuzz ``target_spec`` (a factory spec, or an already built ``Target``) through its contract for about
    ``seconds`` in total, shared evenly by the surfaces (all of ``SURFACES`` unless ``surfaces`` names some).
    ``max_steps`` caps inputs per surface (for replaying a reproducer); ``stop_on_finding`` ends a surface at its
    first finding (a quick yes/no, as in the tests of the negative controls)."""
    names = list(surfaces) if surfaces else list(SURFACES)
    unknown = [n for n in names if n not in SURFACES]
    if unknown:
        raise ValueError(f"unknown contract surface(s) {unknown}; known: {sorted(SURFACES)}")
    target = load_target(target_spec) if isinstance(target_spec, str) else target_spec
    result = ContractFuzzResult(iterations={n: 0 for n in names})
    end = time.monotonic() + seconds
    with tempfile.TemporaryDirectory(prefix="aico-contract-fuzz-") as tmp:
        root = workdir or Path(tmp)
        for index, name in enumerate(names):
            # A surface that stopped early (or ran nothing) leaves its time to the ones after it.
            share = max(1.0, (end - time.monotonic()) / (len(names) - index))
            rng = random.Random(f"{seed}:{name}")  # each surface's inputs depend on the seed only
            why = _run_surface(SURFACES[name](), target, root / name, rng, share,
                               max_steps, seed, result, stop_on_finding)
            if why:
                result.not_run[name] = why
    result.complete = not result.not_run and all(result.iterations[n] > 0 for n in names)
    return result


def _run_surface(surface: ContractSurface, target: Target, workdir: Path, rng: random.Random, seconds: float,
                 max_steps: int | None, seed: int, result: ContractFuzzResult, stop_on_finding: bool) -> str:
    """Run one surface; the reason it ran nothing, or ``""``."""
    workdir.mkdir(parents=True, exist_ok=True)
    source = RandomSource(rng)
    found: list[Finding] = []
    try:
        try:
            surface.setup(target, workdir)
        except SurfaceUnavailable as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - a build whose setup fails ran nothing: incomplete, not a pass
            return f"setup failed: {type(exc).__name__}: {str(exc)[:200]}"
        deadline = time.monotonic() + seconds
        step = 0
        while time.monotonic() < deadline and (max_steps is None or step < max_steps):
            label = f"seed {seed}, surface {surface.name}, step {step}"
            try:
                found += surface.step(source, label)
            except Exception as exc:  # noqa: BLE001 - the surface itself broke: what ran so far is incomplete
                return f"{label}: the fuzzer failed: {type(exc).__name__}: {str(exc)[:200]}"
            step += 1
            result.iterations[surface.name] = step
            if (any(f.kind in FATAL_KINDS for f in found) or len(found) >= MAX_FINDINGS_PER_SURFACE
                    or (stop_on_finding and found)):
                break
        if not found or not (stop_on_finding or any(f.kind in FATAL_KINDS for f in found)):
            found += surface.finish()
    finally:
        result.findings += found
        try:
            surface.teardown()
        except Exception:  # noqa: BLE001,S110 - teardown of a broken build must not hide its findings
            pass
    return ""


def one_input(surface: ContractSurface, data: bytes, label: str = "libFuzzer input") -> list[Finding]:
    """One step of a set-up ``surface`` with its draws taken from ``data``: the body of an Atheris
    ``TestOneInput`` when a surface is fuzzed in process (setup once before ``atheris.Fuzz()``)."""
    return surface.step(provider_source(data), label)
