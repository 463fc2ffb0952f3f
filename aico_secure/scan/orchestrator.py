"""Run every scanner over one tree and collect what they found and covered.

The scanners are independent: one that fails outright (a bug, a missing tool) is recorded as a problem of that
scanner, and the others still run, so a report names every defect it could find and says exactly what it could
not check. Which scanners exist is decided here, in one list.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from aico_secure.scan._scanner.interface import Scanner, ScanOptions
from aico_secure.scan.errors import ScanError
from aico_secure.scan.model import ScannerResult, ScanReport

# name -> "module:Class" under aico_secure.scan._scanner; imported only when run, so one scanner's missing
# dependency is that scanner's problem, not the command's.
SCANNERS: dict[str, str] = {
    "static": "static:StaticScanner",
    "config": "config:ConfigScanner",
    "dependencies": "dependencies:DependencyScanner",
    "crypto": "crypto_inventory:CryptoInventoryScanner",
}


def load(name: str) -> Scanner:
    module_name, _, class_name = SCANNERS[name].partition(":")
    module = importlib.import_module(f"aico_secure.scan._scanner.{module_name}")
    scanner = getattr(module, class_name)()
    if not isinstance(scanner, Scanner):
        raise TypeError(f"{SCANNERS[name]} is not a Scanner")
    return scanner


def run_scan(root: Path, options: ScanOptions | None = None, only: Sequence[str] | None = None) -> ScanReport:
    """Scan ``root`` with every scanner (or the ``only`` ones)."""
    options = options or ScanOptions()
    if not root.is_dir():
        raise ScanError(f"{root} is not a directory")
    names = list(only or SCANNERS)
    unknown = sorted(set(names) - SCANNERS.keys())
    if unknown:
        raise ScanError(f"unknown scanner(s) {', '.join(unknown)}; choose from {', '.join(SCANNERS)}")
    results: list[ScannerResult] = []
    for name in names:
        try:
            results.append(load(name).scan(root, options))
        except Exception as exc:  # noqa: BLE001 - a broken scanner must not hide what the others find
            results.append(ScannerResult(name, problems=[f"the scanner failed: {type(exc).__name__}: {exc}"]))
    report = ScanReport(root=root, results=results)
    for result in results:
        report.extra.update(getattr(result, "documents", {}) or {})
    return report
