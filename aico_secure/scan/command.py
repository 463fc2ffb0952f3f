"""``aico-secure scan SRC``: parse the options, run the scanners, write each requested format, and exit with
the report's code (0 clean, 1 findings, 2 could not scan / not fully checked)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aico_secure.scan import formats, orchestrator
from aico_secure.scan._scanner.interface import ScanOptions
from aico_secure.scan.errors import ScanError
from aico_secure.scan.model import ScanReport


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SRC", help="the source tree to scan (a directory)")
    parser.add_argument("--format", action="append", choices=formats.NAMES, metavar="FMT",
                        help=f"output format, repeatable: {', '.join(formats.NAMES)} (default: text)")
    parser.add_argument("--output", metavar="PATH", help="write the report here (with several formats: a "
                        "directory, one file per format) instead of standard output")
    parser.add_argument("--requirements", action="append", default=[], metavar="FILE",
                        help="a requirements file to audit (repeatable; default: the manifests found in SRC)")
    parser.add_argument("--env", metavar="PYTHON", help="audit the environment of this Python interpreter "
                        "instead of SRC's manifests")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--osv-db", metavar="DIR", help="audit offline against this directory of OSV JSON records")
    source.add_argument("--osv-url", metavar="URL", help="audit against this OSV endpoint")
    parser.add_argument("--baseline", metavar="FILE", help="compare with this baseline (accepted findings with "
                        "a justification and an expiry; the previous cryptographic inventory)")
    parser.add_argument("--only", action="append", choices=sorted(orchestrator.SCANNERS), metavar="SCANNER",
                        help=f"run only this scanner (repeatable): {', '.join(orchestrator.SCANNERS)}")


def _options(args: argparse.Namespace) -> ScanOptions:
    for name in args.requirements:
        if not Path(name).is_file():
            raise ScanError(f"--requirements {name}: not a file")
    if args.osv_db and not Path(args.osv_db).is_dir():
        raise ScanError(f"--osv-db {args.osv_db}: not a directory")
    if args.env and not Path(args.env).is_file():
        raise ScanError(f"--env {args.env}: not a file")
    return ScanOptions(osv_db=Path(args.osv_db) if args.osv_db else None, osv_url=args.osv_url,
                       env_python=Path(args.env) if args.env else None,
                       requirements=tuple(Path(name) for name in args.requirements))


def _write(report: ScanReport, names: list[str], output: str | None) -> None:
    rendered = {name: formats.get(name) for name in names}
    texts = {name: fmt.render(report) for name, fmt in rendered.items()}  # every format renders before any write
    if output is None:
        if len(names) > 1:
            raise ScanError("several formats need --output DIR")
        sys.stdout.write(texts[names[0]])
        return
    target = Path(output)
    if len(names) == 1:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(texts[names[0]], encoding="utf-8")
        return
    target.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (target / f"scan{rendered[name].suffix}").write_text(text, encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    root = Path(args.source)
    if not root.is_dir():
        raise ScanError(f"{args.source}: not a directory")
    report = orchestrator.run_scan(root, _options(args), args.only)
    if args.baseline:
        from aico_secure.scan import baseline

        report = baseline.apply(report, Path(args.baseline))
    _write(report, args.format or ["text"], args.output)
    if args.output or (args.format and args.format != ["text"]):
        print(f"aico-secure scan: {len(report.findings)} finding(s), {len(report.problems)} problem(s)",
              file=sys.stderr)
        for problem in report.problems:
            print(f"  not fully checked: {problem}", file=sys.stderr)
    return report.exit_code
