"""``aico-secure inspect``: parse the options, run the inspection (or the canary workload, then the inspection),
render, and map the verdict to an exit code.

Exit codes: 0 clean; 1 something was found (or the workload met a capability the build does not implement);
2 usage error, unreadable input, or nothing read. Key material given with ``--key-hex`` is never echoed: a bad
value is reported by its position, and findings name keys ``key-hex#N``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

from aico_secure.inspector import formats
from aico_secure.inspector.errors import InspectorError
from aico_secure.inspector.needles import Needles
from aico_secure.inspector.report import InspectionReport, Searched, WorkloadSummary
from aico_secure.sensitive import SecretBytes


class UsageError(InspectorError):
    """A bad option or an unreadable option file (exit 2)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="the data directory to inspect (with --workload: an "
                        "empty or new directory the workload writes into)")
    parser.add_argument("--canary", action="append", default=[], metavar="TEXT", help="text that must not be "
                        "readable anywhere (repeatable)")
    parser.add_argument("--canary-file", metavar="FILE", help="one canary per line")
    parser.add_argument("--vector-canary", metavar="FILE", help="a JSON list of float lists (embeddings)")
    parser.add_argument("--key-hex", action="append", default=[], metavar="HEX", help="key material that must "
                        "appear nowhere, raw, hex or base64 (repeatable)")
    parser.add_argument("--format", choices=formats.NAMES, default="text")
    parser.add_argument("--output", metavar="FILE", help="write the report here instead of standard output")
    parser.add_argument("--workload", action="store_true", help="first run the canary workload of --target into "
                        "DIR, then inspect DIR for what it wrote")
    parser.add_argument("--target", metavar="PKG.MOD:FACTORY", help="the build the workload drives")
    parser.add_argument("--production-kdf", action="store_true", help="workload: create the keyring with the "
                        "build's production KDF instead of its fast test profile")


def _canaries(args: argparse.Namespace) -> list[str]:
    canaries = list(args.canary)
    if args.canary_file:
        try:
            text = Path(args.canary_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read --canary-file {args.canary_file}: {exc}") from None
        canaries += [line for line in text.splitlines() if line.strip()]
    return canaries


def _vectors(args: argparse.Namespace) -> list[list[float]]:
    if not args.vector_canary:
        return []
    try:
        data = json.loads(Path(args.vector_canary).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read --vector-canary {args.vector_canary}: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(v, list) for v in data):
        raise UsageError("--vector-canary must hold a JSON list of float lists")
    vectors = []
    for i, vector in enumerate(data):
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in vector):
            raise UsageError(f"--vector-canary: vector {i} holds something that is not a finite number")
        vectors.append([float(x) for x in vector])
    return vectors


def _keys(args: argparse.Namespace) -> list[tuple[str, SecretBytes]]:
    keys = []
    for i, text in enumerate(args.key_hex, start=1):
        try:
            keys.append((f"key-hex#{i}", SecretBytes(bytes.fromhex(text.strip()))))
        except ValueError:
            raise UsageError(f"--key-hex #{i} is not valid hex") from None
    return keys


def _write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    target = Path(output)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent if str(target.parent) else ".")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        raise UsageError(f"cannot write --output {output}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    canaries, vectors, keys = _canaries(args), _vectors(args), _keys(args)
    directory = Path(args.directory)
    workload: WorkloadSummary | None = None
    if args.workload:
        if not args.target:
            raise UsageError("--workload needs --target package.module:factory")
        from aico_secure.inspector.workload import run_workload
        from aico_secure.target import CapabilityMissing, TargetLoadError, load_target

        try:
            target = load_target(args.target)
        except TargetLoadError as exc:
            raise UsageError(str(exc)) from None
        try:
            run_ = run_workload(target, directory, fast_kdf=not args.production_kdf)
        except CapabilityMissing as exc:
            print(f"aico-secure inspect: not implemented: {exc}", file=sys.stderr)
            return 1
        canaries += run_.canaries
        vectors += [list(v) for v in run_.vectors]
        keys += run_.keys
        workload = WorkloadSummary(args.target, tuple(run_.driven), tuple(run_.not_implemented), tuple(run_.notes))
    elif args.target:
        raise UsageError("--target is only used with --workload")
    from aico_secure.inspector.scan import inspect_tree

    fmt = formats.get(args.format)
    needles = Needles.build(canaries, vectors, keys)
    result = inspect_tree(directory, canaries=canaries, vectors=vectors, keys=keys)
    report = InspectionReport(result, Searched.of(needles), workload)
    _write(fmt.render(report), args.output)
    if args.output:
        print(f"aico-secure inspect: {report.verdict}: {len(result.findings)} finding(s) in {result.files_read} "
              f"file(s); report written to {args.output}", file=sys.stderr)
    return report.exit_code
