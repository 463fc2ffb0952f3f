#!/usr/bin/env python3
"""Run benchmarks: ``python bench/run.py`` (all) or ``python bench/run.py keys stores``.

Each ``bench/bench_<name>.py`` has a ``main() -> None`` that measures its variants side by side in one run and
prints ratios. Benchmarks are never part of CI's pass/fail: these machines are noisy, so only ratios mean
anything.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> dict[str, Path]:
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def run(name: str, path: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(f"== {name} ==", flush=True)
    start = time.perf_counter()
    module.main()
    print(f"== {name}: {time.perf_counter() - start:.1f} s wall ==\n", flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["mutation"]:  # long and optioned: bench/mutation.py, never part of "all"
        spec = importlib.util.spec_from_file_location("bench_mutation_cli", HERE / "mutation.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return int(module.main(argv[1:]))
    benches = available()
    chosen = argv or list(benches)
    unknown = [n for n in chosen if n not in benches]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {', '.join(benches)}", file=sys.stderr)
        return 2
    for name in chosen:
        run(name, benches[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
