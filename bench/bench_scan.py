"""``aico-secure scan``'s static and configuration scanners against plain ``bandit -r`` on the same tree, side by
side in one run: the ratio says what our plugins and the config walk cost on top of bandit.

The tree: this repository's own Python (the reference, the suite, the verification tests), copied until it holds
at least 50,000 lines, plus its YAML, TOML and JSON files. Goal: ratio <= 1.5.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_LINES = 50_000
ROUNDS = 3
SOURCES = ("aico_secure", "conformance", "verification")


def _tree(into: Path) -> int:
    """Copies of the repository's Python (and config files) until ``TARGET_LINES``; returns the line count."""
    lines, copy = 0, 0
    while lines < TARGET_LINES:
        for source in SOURCES:
            for path in sorted((ROOT / source).rglob("*")):
                if not path.is_file() or "fixtures" in path.parts or path.suffix not in (".py", ".yaml", ".toml"):
                    continue
                dest = into / f"copy{copy}" / path.relative_to(ROOT)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
                if path.suffix == ".py":
                    lines += path.read_text(encoding="utf-8", errors="replace").count("\n")
        copy += 1
    return lines


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="aico-bench-scan-") as tmp:
        tree = Path(tmp) / "tree"
        lines = _tree(tree)
        bandit = [str(bin_dir / "bandit"), "-r", "-q", "-f", "json", str(tree)]
        ours = [sys.executable, "-m", "aico_secure.cli.main", "scan", str(tree), "--only", "static", "--only",
                "config", "--format", "json", "--output", str(Path(tmp) / "scan.json")]
        plain, scanned = [], []
        for _ in range(ROUNDS):  # interleaved, so drift on a noisy machine hits both alike
            plain.append(_timed(bandit))
            scanned.append(_timed(ours))
    p, s = statistics.median(plain), statistics.median(scanned)
    print(f"tree: {lines} lines of Python; {ROUNDS} rounds, medians")
    print(f"bandit -r alone            {p:7.2f} s")
    print(f"aico-secure scan (static+config) {s:7.2f} s")
    print(f"ratio scan / bandit: {s / p:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
