"""``aico-secure inspect``: parse the options, run the inspection (or the canary workload, then the inspection),
render, and map the verdict to an exit code.

Exit codes: 0 clean; 1 something was found (or the workload met a capability the build does not implement),
even if part of the directory was not fully inspected (the report lists both); 2 usage error, unreadable
input, nothing read, or something not fully inspected (a limit, an undecodable or encrypted part). Key
material given with ``--key-hex`` is never echoed: a bad value is reported by its position, and findings name
keys ``key-hex#N``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import stat
import sys
import tempfile
from pathlib import Path

from aico_secure.inspector import formats
from aico_secure.inspector.encodings import printable
from aico_secure.inspector.errors import InspectorError
from aico_secure.inspector.interface import Limits
from aico_secure.inspector.needles import Needles
from aico_secure.inspector.report import InspectionReport, Searched, WorkloadSummary
from aico_secure.inspector.selfreport import seal
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
    parser.add_argument("--format", action="append", choices=formats.NAMES, metavar="FMT",
                        help=f"output format, repeatable: {', '.join(formats.NAMES)} (default: text)")
    parser.add_argument("--output", metavar="PATH", help="write the report here instead of standard output "
                        "(with several formats: a directory, one file per format, as aico-secure scan does)")
    parser.add_argument("--workload", action="store_true", help="first run the canary workload of --target into "
                        "DIR, then inspect DIR for what it wrote")
    parser.add_argument("--target", metavar="PKG.MOD:FACTORY", help="the build the workload drives")
    parser.add_argument("--production-kdf", action="store_true", help="workload: create the keyring with the "
                        "build's production KDF instead of its fast test profile")
    parser.add_argument("--file-time-budget", type=_seconds, default=Limits.file_seconds, metavar="SECONDS",
                        help="wall-clock time per file, decoding included; a file that needs more is reported "
                        "not fully inspected (default %(default)s)")
    parser.add_argument("--time-budget", type=_seconds, default=None, metavar="SECONDS",
                        help="wall-clock time for the whole run; files not reached are reported not inspected "
                        "(default: none)")


MAX_OPTION_FILE = 64 << 20  # a canary or vector file larger than this is refused, not read into memory
MAX_JSON_DIGITS = 400  # an integer literal longer than this in --vector-canary is refused (no float holds it)


def _read_option_file(option: str, name: str) -> bytes:
    """The bytes of an option file: a regular file only (a FIFO or a device would block or never end), opened
    without blocking and read up to ``MAX_OPTION_FILE`` bytes; any OS error is a one-line usage error."""
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UsageError(f"cannot read {option} {_shown(name)}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{option} {_shown(name)} is not a regular file")
        if info.st_size > MAX_OPTION_FILE:
            raise UsageError(f"{option} {_shown(name)} is larger than {MAX_OPTION_FILE} bytes")
        os.set_blocking(fd, True)
        chunks = []
        while piece := os.read(fd, 1 << 20):
            chunks.append(piece)
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"cannot read {option} {_shown(name)}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _shown(name: str) -> str:
    return printable(name)


def _canaries(args: argparse.Namespace) -> list[str]:
    """``--canary`` values and ``--canary-file`` lines. A line that is not UTF-8 is kept as its bytes (held with
    ``surrogateescape``, searched as bytes, shown escaped): canaries are data, not necessarily text."""
    canaries = list(args.canary)
    if args.canary_file:
        data = _read_option_file("--canary-file", args.canary_file)
        for line in data.split(b"\n"):
            line = line.removesuffix(b"\r")
            if line.strip():
                canaries.append(line.decode("utf-8", "surrogateescape"))
    return canaries


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits")
    return int(text)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _vectors(args: argparse.Namespace) -> list[list[float]]:
    if not args.vector_canary:
        return []
    raw = _read_option_file("--vector-canary", args.vector_canary)
    try:
        data = json.loads(raw.decode("utf-8"), parse_int=_bounded_int, parse_constant=_no_constant)
    except RecursionError:
        raise UsageError(f"--vector-canary {_shown(args.vector_canary)}: JSON nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise UsageError(f"cannot read --vector-canary {_shown(args.vector_canary)}: {str(exc)[:200]}") from None
    if not isinstance(data, list) or not all(isinstance(v, list) for v in data):
        raise UsageError("--vector-canary must hold a JSON list of float lists")
    vectors = []
    for i, vector in enumerate(data):
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and _finite(x) for x in vector):
            raise UsageError(f"--vector-canary: vector {i} holds something that is not a finite number")
        vectors.append([float(x) for x in vector])
    return vectors


def _finite(x: float) -> bool:
    try:
        return math.isfinite(x)
    except OverflowError:  # an int too large for a float
        return False


def _keys(args: argparse.Namespace) -> list[tuple[str, SecretBytes]]:
    keys = []
    for i, text in enumerate(args.key_hex, start=1):
        try:
            keys.append((f"key-hex#{i}", SecretBytes(bytes.fromhex(text.strip()))))
        except ValueError:
            raise UsageError(f"--key-hex #{i} is not valid hex") from None
    return keys


def _write(text: str, output: str | None) -> None:
    """The report to standard output or, atomically, to ``output``: a failure (read-only place, disk full,
    file size limit, a directory in the way) is a one-line usage error and leaves no partial file behind."""
    data = text.encode("utf-8")
    if output is None:
        try:
            sys.stdout.flush()
            fd = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):  # a replaced stdout (tests, embedding): write text to it
            sys.stdout.write(text)
            return
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except OSError as exc:
            raise UsageError(f"cannot write the report to standard output: {exc.strerror or exc}") from None
        return
    target = Path(output)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent if str(target.parent) else ".")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise UsageError(f"cannot write --output {_shown(output)}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# File names when several formats are written into one --output directory (``inspect<suffix>``, as ``scan``).
SUFFIXES = {"text": ".txt", "json": ".json", "sarif": ".sarif"}


def _destinations(names: list[str], output: str | None, inspected: Path) -> dict[str, str | None]:
    """Where each format goes, decided before the inspection runs: one format to ``output`` (or standard
    output), several to ``output/inspect<suffix>``. Several formats inside the inspected directory are refused:
    only one report path can be recognised as this tool's own on the next run, the others would be findings."""
    names = list(dict.fromkeys(names))
    if len(names) == 1:
        return {names[0]: output}
    if output is None:
        raise UsageError("several formats need --output DIR")
    folder = Path(output)
    with contextlib.suppress(OSError):
        if folder.resolve().is_relative_to(inspected.resolve()):
            raise UsageError(f"with several formats, --output {_shown(output)} must be outside the inspected "
                             "directory")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--output {_shown(output)} is not a directory (several formats are written into one)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --output {_shown(output)}: {exc.strerror or exc}") from None
    return {name: str(folder / f"inspect{SUFFIXES[name]}") for name in names}


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    canaries, vectors, keys = _canaries(args), _vectors(args), _keys(args)
    directory = Path(args.directory)
    destinations = _destinations(args.format or ["text"], args.output, directory)
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

    needles = Needles.build(canaries, vectors, keys)
    limits = Limits(file_seconds=args.file_time_budget, run_seconds=args.time_budget)
    own = next(iter(destinations.values())) if len(destinations) == 1 else None
    result = inspect_tree(directory, canaries=canaries, vectors=vectors, keys=keys, limits=limits,
                          own_report=own)
    report = InspectionReport(result, Searched.of(needles), workload)
    summary = (f"{report.verdict}: {len(result.findings)} finding(s) in {result.files_read} file(s), "
               f"{len(result.unreadable)} not fully inspected")
    # Every format renders before any is written, so a render failure leaves no partial set of files.
    texts = {name: seal(formats.get(name).render(report)) for name in destinations}
    for name, destination in destinations.items():
        try:
            _write(texts[name], destination)
        except UsageError as exc:
            raise UsageError(f"{exc} (the inspection's verdict was {summary})") from None
    written = [d for d in destinations.values() if d is not None]
    if written:
        print(f"aico-secure inspect: {summary}; report written to {', '.join(_shown(d) for d in written)}",
              file=sys.stderr)
    return report.exit_code
