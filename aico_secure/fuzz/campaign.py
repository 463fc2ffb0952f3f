"""Bounded libFuzzer campaigns of the registry's harnesses, and the JSON result document of each.

Each harness runs in its own process (libFuzzer owns the process and exits on the first finding):
``python -m aico_secure.fuzz.entry NAME <the harness's bounds> -artifact_prefix=... -print_final_stats=1
[-dict=...] [-runs/-max_total_time] [pass-through flags] CORPUS``. A campaign always stops by itself: ``runs``
and ``max_time`` must be at least 1 (libFuzzer reads ``-runs=-1`` and ``-max_total_time=0`` as "forever"), a
campaign given neither stops after ``DEFAULT_MAX_TIME`` seconds, and a harness still running ``HANG_GRACE``
seconds past its time bound is killed with everything it started and reported as a finding (a hang).

Where things live: in a checkout, the corpus ``fuzz/corpus/NAME/`` (a campaign grows it), the dictionary
``fuzz/dict/NAME.dict`` and crashing inputs under ``fuzz/crashes/NAME/`` (git-ignored). From an installed wheel
there is no checkout: the corpus is a temporary folder seeded with the harness's own seeds (the reference
build's writes), the dictionary is written from the harness, and artifacts go to ``./fuzz-artifacts/NAME/``.

A campaign's figures are libFuzzer's own (``stats``); a run whose figures cannot be read is "not measured",
which fails it: a run we cannot show ran is never reported as "no finding".
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from aico_secure.fuzz import files, registry, stats
from aico_secure.fuzz.stats import FuzzStats

DEFAULT_MAX_TIME = 600  # seconds, for a campaign given neither --runs nor --max-time
HANG_GRACE = 60  # seconds past --max-time before a harness that ignores its bound is killed
MAX_BOUND = 2**31 - 1  # libFuzzer reads -runs and -max_total_time as C ints: larger wraps to "forever"
RESULT_KIND = "aico-secure-fuzz/1"
CONTRACT_RESULT_KIND = "aico-secure-fuzz/contract-1"
ENTRY_MODULE = "aico_secure.fuzz.entry"  # what runs one harness under libFuzzer (tests plant another)
# libFuzzer's artifact prefixes and what each means; "leak-" is a crash for our purpose (the harness broke),
# "slow-unit-" is only a slow input, not a finding.
ARTIFACT_KINDS = {"crash-": "crash", "leak-": "crash", "timeout-": "timeout", "oom-": "oom"}
# Flags the campaign owns: passing them through would unbound the run or hide its artifacts and figures.
OWNED_FLAGS = ("-runs", "-max_total_time", "-artifact_prefix", "-exact_artifact_path", "-print_final_stats",
               "-minimize_crash", "-merge")
MINIMIZE_RUNS = 10_000  # inputs libFuzzer tries per minimisation step
TAIL_LINES = 60  # lines of libFuzzer output kept for a failing run's message


class FuzzError(Exception):
    """Atheris missing, unknown harness, bad bound or flag, or a folder that cannot be written (one line)."""


@dataclass(frozen=True)
class Campaign:
    harness: str
    runs: int | None = None
    max_time: int | None = None
    corpus: Path | None = None
    output: Path | None = None  # where the JSON result document goes (none: no document)
    libfuzzer_args: tuple[str, ...] = ()
    echo: bool = True  # stream libFuzzer's output to stderr as it runs (off when several run at once)


@dataclass
class CampaignResult:
    harness: str
    exit_code: int
    killed: bool
    elapsed_s: float
    stats: FuzzStats | None
    artifacts: list[Path] = field(default_factory=list)
    corpus: Path | None = None
    tail: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """A crash, timeout or out-of-memory input, a non-zero exit or a kill: the harness broke its contract
        (or did not run at all, which is no better)."""
        return bool(self.artifacts) or self.killed or self.exit_code != 0

    @property
    def measured(self) -> bool:
        return self.stats is not None

    @property
    def code(self) -> int:
        """0 ran its budget with no finding; 1 a finding; 2 no finding but not measured."""
        if self.found:
            return 1
        return 0 if self.measured else 2


def checkout_fuzz_dir() -> Path | None:
    """``fuzz/`` of the source checkout this package runs from, or ``None`` when it runs from an install."""
    root = files.CHECKOUT_FUZZ_DIR
    return root if root.is_dir() and (root.parent / "pyproject.toml").is_file() else None


def bounds(campaign: Campaign) -> tuple[int | None, int | None]:
    """``(runs, max_time)`` of a campaign that always ends: each given bound at least 1, a default time if none."""
    for option, value in (("--runs", campaign.runs), ("--max-time", campaign.max_time)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= MAX_BOUND):
            raise FuzzError(f"{option} must be a whole number from 1 to {MAX_BOUND}, got {value!r}")
    if campaign.runs is None and campaign.max_time is None:
        return None, DEFAULT_MAX_TIME
    return campaign.runs, campaign.max_time


def check_passthrough(flags: tuple[str, ...]) -> None:
    for flag in flags:
        if not flag.startswith("-") or flag == "-":
            raise FuzzError(f"--libfuzzer-arg takes a libFuzzer flag like -name=value, got {flag!r}")
        if flag.split("=", 1)[0] in OWNED_FLAGS:
            raise FuzzError(f"--libfuzzer-arg {flag}: the campaign sets {flag.split('=', 1)[0]} itself "
                            "(use --runs/--max-time)")


def artifacts_dir(name: str) -> Path:
    fuzz_dir = checkout_fuzz_dir()
    return fuzz_dir / "crashes" / name if fuzz_dir else Path.cwd() / "fuzz-artifacts" / name


def _require_atheris() -> None:
    import importlib.util

    if importlib.util.find_spec("atheris") is None:
        raise FuzzError("atheris is not installed (pip install 'aico-secure[fuzz]')")


def _mkdir(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FuzzError(f"cannot create {folder}: {exc.strerror or exc}") from None
    return folder


def seed_folder(name: str, folder: Path) -> Path:
    """A corpus folder holding the harness's seeds: what an installed campaign starts from."""
    harness = registry.load(name)
    _mkdir(folder)
    harness.setup()
    try:
        for _label, data in harness.seeds():
            (folder / hashlib.sha256(data).hexdigest()[:40]).write_bytes(data)
    finally:
        harness.teardown()
    return folder


def dictionary_for(name: str, scratch: Path) -> Path | None:
    """The checked-in dictionary, else the harness's tokens written to ``scratch``; ``None`` if it has none."""
    fuzz_dir = checkout_fuzz_dir()
    if fuzz_dir is not None and files.dict_path(name, fuzz_dir).is_file():
        return files.dict_path(name, fuzz_dir)
    harness = registry.load(name)
    if not harness.dictionary:
        return None
    path = scratch / f"{name}.dict"
    path.write_text(files.dictionary_text(harness.dictionary), encoding="utf-8")
    return path


def harness_flags(name: str) -> list[str]:
    """The harness's own per-input bounds, as the entry module and ClusterFuzzLite's .options pass them."""
    harness = registry.load(name)
    return [f"-timeout={harness.timeout_s}", f"-rss_limit_mb={harness.rss_limit_mb}", f"-max_len={harness.max_len}"]


def command(campaign: Campaign, scratch: Path) -> tuple[list[str], Path, Path]:
    """``(argv, corpus, artifacts)`` of one campaign; temporary files (an install's corpus, a dictionary) go in
    ``scratch``, which must outlive the run."""
    _require_atheris()
    registry.load(campaign.harness)  # unknown harness: refused before anything is created
    runs, max_time = bounds(campaign)
    check_passthrough(campaign.libfuzzer_args)
    fuzz_dir = checkout_fuzz_dir()
    if campaign.corpus is not None:
        corpus = _mkdir(campaign.corpus)
    elif fuzz_dir is not None:
        corpus = _mkdir(files.corpus_dir(campaign.harness, fuzz_dir))
        if not any(corpus.iterdir()):  # a new harness: start from the reference build's writes, not from nothing
            seed_folder(campaign.harness, corpus)
    else:
        corpus = seed_folder(campaign.harness, scratch / "corpus")
    artifacts = _mkdir(artifacts_dir(campaign.harness))
    cmd = [sys.executable, "-m", ENTRY_MODULE, campaign.harness, *harness_flags(campaign.harness),
           f"-artifact_prefix={artifacts}/", "-print_final_stats=1"]
    dictionary = dictionary_for(campaign.harness, scratch)
    if dictionary is not None:
        cmd.append(f"-dict={dictionary}")
    if runs is not None:
        cmd.append(f"-runs={runs}")
    if max_time is not None:
        cmd.append(f"-max_total_time={max_time}")
    cmd += [*campaign.libfuzzer_args, str(corpus)]
    return cmd, corpus, artifacts


def run(campaign: Campaign) -> CampaignResult:
    """One campaign to its end; a result document too when ``campaign.output`` is set."""
    with tempfile.TemporaryDirectory(prefix=f"aico-fuzz-{campaign.harness}-") as tmp:
        cmd, corpus, artifacts = command(campaign, Path(tmp))
        _, max_time = bounds(campaign)
        before = _artifact_names(artifacts)
        started_at, clock = _now(), time.monotonic()
        code, killed, lines = _execute(cmd, None if max_time is None else max_time + HANG_GRACE,
                                       campaign.harness, max_time, campaign.echo)
        found = [artifacts / name for name in sorted(_artifact_names(artifacts) - before)]
        result = CampaignResult(campaign.harness, code, killed, time.monotonic() - clock, stats.parse(lines),
                                found, corpus if campaign.corpus is not None or checkout_fuzz_dir() else None,
                                list(lines)[-TAIL_LINES:])
    if campaign.output is not None:
        write_result(campaign.output, campaign_document(campaign, result, started_at=started_at))
    return result


# libFuzzer's -rss_limit_mb reads the process's peak RSS (getrusage), and an exec'd child starts with its
# parent's RSS at fork as that peak: a campaign started from a large process (a test run, a CI job) would be
# "out of memory" before its first input. A shell in between forks the harness from a small process. The shell
# reports a harness killed by signal N as exit 128+N.
FRESH_PEAK = ("/bin/sh", "-c", '"$0" "$@"; exit $?')


def _execute(cmd: list[str], wall: float | None, name: str, max_time: int | None,
             echo: bool) -> tuple[int, bool, deque[str]]:
    """Run ``cmd`` in its own process group, reading its output as it comes (echoed or not); kill the group
    when it ends or outlives ``wall`` seconds. Returns the exit code, whether it was killed, and the output's
    lines worth keeping (the stat lines and status lines among the last few hundred)."""
    kept: deque[str] = deque(maxlen=400)
    proc = subprocess.Popen([*FRESH_PEAK, *cmd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            kept.append(line)
            if echo:
                print(line, file=sys.stderr, flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    killed = False
    try:
        code = proc.wait(timeout=wall)
    except subprocess.TimeoutExpired:
        print(f"aico-secure fuzz: harness {name!r} still running {HANG_GRACE} s after its {max_time} s bound: "
              "killed, reported as a finding (hang)", file=sys.stderr)
        code, killed = -signal.SIGKILL, True
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        reader.join(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    return code, killed, kept


def minimize(name: str, crash: Path, *, into: Path | None = None, runs: int = MINIMIZE_RUNS) -> Path:
    """libFuzzer's ``-minimize_crash=1`` on ``crash``; the smallest input that still crashes is kept as
    ``<into or fuzz/regressions/NAME>/<sha256 of its content, 40 hex>`` and its path returned.

    libFuzzer minimises by re-running its own command line, so the harness runs through a small executable
    wrapper that names it (``python -m`` would be re-run without the harness name)."""
    _require_atheris()
    registry.load(name)
    if not crash.is_file():
        raise FuzzError(f"{crash}: not a file")
    if into is None:
        fuzz_dir = checkout_fuzz_dir()
        if fuzz_dir is None:
            raise FuzzError("--minimize keeps the reproducer in fuzz/regressions/ of a checkout: give --into DIR")
        into = files.regressions_dir(name, fuzz_dir)
    with tempfile.TemporaryDirectory(prefix=f"aico-fuzz-min-{name}-") as tmp:
        work = Path(tmp)
        wrapper = work / f"fuzz_{name}"
        wrapper.write_text(wrapper_source(name, interpreter=sys.executable), encoding="utf-8")
        wrapper.chmod(0o755)
        out = _mkdir(work / "out")
        cmd = [str(wrapper), *harness_flags(name), "-minimize_crash=1", f"-runs={runs}",
               f"-artifact_prefix={out}/", str(crash.resolve())]
        code, _killed, lines = _execute(cmd, DEFAULT_MAX_TIME + HANG_GRACE, name, DEFAULT_MAX_TIME, echo=False)
        candidates = sorted((p for p in out.iterdir() if p.name.startswith("minimized-from-")),
                            key=lambda p: (p.stat().st_size, p.name))
        if not candidates:
            why = next((line for line in lines if "did not crash" in line), f"libFuzzer exited with {code}")
            raise FuzzError(f"{crash}: no crashing input to keep ({why.strip()})")
        data = candidates[0].read_bytes()
    _mkdir(into)
    kept = into / hashlib.sha256(data).hexdigest()[:40]
    kept.write_bytes(data)
    return kept


def wrapper_source(name: str, interpreter: str | None = None) -> str:
    """A script that runs harness ``name`` under libFuzzer with the flags it is given: what libFuzzer re-runs
    to minimise, and what ClusterFuzzLite packages as ``fuzz_<name>``."""
    shebang = f"#!{interpreter}\n" if interpreter else ""
    return (f"{shebang}\"\"\"libFuzzer entry point of the aico-secure harness {name!r}.\"\"\"\n"
            "import importlib\nimport sys\n\n"
            f"sys.exit(importlib.import_module({ENTRY_MODULE!r}).main([sys.argv[0], {name!r}, *sys.argv[1:]]))\n")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _artifact_names(folder: Path) -> set[str]:
    try:
        return {p.name for p in folder.iterdir() if p.name.startswith(tuple(ARTIFACT_KINDS)) and p.is_file()}
    except OSError:
        return set()


def _artifact(path: Path) -> dict[str, Any]:
    kind = next(k for prefix, k in ARTIFACT_KINDS.items() if path.name.startswith(prefix))
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"kind": kind, "file": str(path), "sha256": digest, "size": path.stat().st_size}


def _environment() -> dict[str, str]:
    try:
        atheris = metadata.version("atheris")
    except metadata.PackageNotFoundError:
        atheris = "not installed"
    return {"python": f"{platform.python_implementation()} {sys.version.split()[0]}",
            "platform": platform.platform(), "atheris": atheris}


def _tool() -> dict[str, str]:
    from aico_secure import __version__

    return {"name": "aico-secure fuzz", "version": __version__}


def result_document(campaign: Campaign, *, started_at: str, elapsed: float, exit_code: int, killed: bool,
                    artifacts: list[Path], stats: FuzzStats | None = None) -> dict[str, Any]:
    """What one campaign did: enough for a report to tell "ran its whole budget and found nothing" from "found
    something" from "never really ran" (a harness that failed to start exits non-zero without an artifact). A
    document with ``stats: null`` is a run whose figures could not be read: it did not finish its budget as far
    as anyone can show."""
    runs, max_time = bounds(campaign)
    document: dict[str, Any] = {
        "schema": RESULT_KIND,
        "tool": _tool(),
        "harness": campaign.harness,
        "runs": runs,
        "max_time": max_time,
        "started_at": started_at,
        "finished_at": _now(),
        "elapsed_s": round(elapsed, 3),
        "exit_code": exit_code,
        "killed": killed,
        "finished_budget": exit_code == 0 and not killed,
        "artifacts": [_artifact(p) for p in artifacts],
        "environment": _environment(),
    }
    return document


def campaign_document(campaign: Campaign, result: CampaignResult, *, started_at: str) -> dict[str, Any]:
    """``result_document`` of a campaign that ran here, with libFuzzer's figures (``null``: not measured)."""
    document = result_document(campaign, started_at=started_at, elapsed=result.elapsed_s,
                               exit_code=result.exit_code, killed=result.killed, artifacts=result.artifacts)
    document["stats"] = result.stats.as_json() if result.stats else None
    document["finished_budget"] = document["finished_budget"] and result.measured
    return document


def contract_document(spec: str, outcome: Any, *, seed: int, seconds: int, surfaces: list[str],
                      started_at: str, elapsed: float) -> dict[str, Any]:
    """A contract-level campaign (``aico_secure.fuzz.contract.runner.run``'s result) as a document report
    merge reads: each finding against the requirement its surface checks, and every surface that ran nothing."""
    return {
        "schema": CONTRACT_RESULT_KIND,
        "tool": _tool(),
        "target": spec,
        "seed": seed,
        "max_time": seconds,
        "surfaces": surfaces,
        "started_at": started_at,
        "finished_at": _now(),
        "elapsed_s": round(elapsed, 3),
        "complete": bool(outcome.complete),
        "iterations": dict(outcome.iterations),
        "not_run": dict(outcome.not_run),
        "findings": [{"surface": f.surface, "kind": f.kind, "detail": f.detail, "reproducer": f.reproducer,
                      "requirement": SURFACE_REQUIREMENTS.get(f.surface, REQUIREMENT)}
                     for f in outcome.findings],
        "environment": _environment(),
    }


# The requirement each contract surface's property comes from (docs/fuzzing.md); input validation in general
# (AICO-SEC-002) for anything else.
REQUIREMENT = "AICO-SEC-002"
SURFACE_REQUIREMENTS = {"stored": "AICO-DAR-005", "bus": "AICO-BUS-008", "gateway": "AICO-GW-004"}


def write_result(path: Path, document: dict[str, Any]) -> None:
    """Validated, then written atomically: a consumer never reads half a result or one of another shape."""
    import jsonschema

    from aico_secure.conform.report_files import write_atomic

    schema = CONTRACT_RESULT_SCHEMA if document.get("schema") == CONTRACT_RESULT_KIND else RESULT_SCHEMA
    jsonschema.validate(document, schema)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(document, indent=2) + "\n")
    except OSError as exc:
        raise FuzzError(f"cannot write the fuzzing result {path}: {exc.strerror or exc}") from None


_COUNT = {"type": ["integer", "null"], "minimum": 1}
_TOOL = {"type": "object", "additionalProperties": False, "required": ["name", "version"],
         "properties": {"name": {"const": "aico-secure fuzz"}, "version": {"type": "string"}}}
_ENVIRONMENT = {"type": "object", "additionalProperties": False, "required": ["python", "platform", "atheris"],
                "properties": {"python": {"type": "string"}, "platform": {"type": "string"},
                               "atheris": {"type": "string"}}}
RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "aico-secure fuzz: the result of one campaign",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "tool", "harness", "runs", "max_time", "started_at", "finished_at", "elapsed_s",
                 "exit_code", "killed", "finished_budget", "artifacts", "environment"],
    "properties": {
        "schema": {"const": RESULT_KIND},
        "tool": _TOOL,
        "harness": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
        "runs": _COUNT,
        "max_time": _COUNT,
        "started_at": {"type": "string"},
        "finished_at": {"type": "string"},
        "elapsed_s": {"type": "number", "minimum": 0},
        "exit_code": {"type": "integer", "description": "libFuzzer's exit code; 128+N: the harness died by signal N; "
                                                        "-9: killed past its time bound"},
        "killed": {"type": "boolean", "description": "still running past its time bound, killed (a hang)"},
        "finished_budget": {"type": "boolean",
                            "description": "ran every input or second asked, measured, no finding"},
        "artifacts": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["kind", "file", "sha256", "size"],
            "properties": {"kind": {"enum": ["crash", "timeout", "oom"]}, "file": {"type": "string"},
                           "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                           "size": {"type": "integer", "minimum": 0}}}},
        "environment": _ENVIRONMENT,
        "stats": stats.STATS_SCHEMA,
    },
}
CONTRACT_RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "aico-secure fuzz --target: the result of one contract-level campaign",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "tool", "target", "seed", "max_time", "surfaces", "started_at", "finished_at",
                 "elapsed_s", "complete", "iterations", "not_run", "findings", "environment"],
    "properties": {
        "schema": {"const": CONTRACT_RESULT_KIND},
        "tool": _TOOL,
        "target": {"type": "string", "minLength": 1},
        "seed": {"type": "integer"},
        "max_time": {"type": "integer", "minimum": 1},
        "surfaces": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "started_at": {"type": "string"},
        "finished_at": {"type": "string"},
        "elapsed_s": {"type": "number", "minimum": 0},
        "complete": {"type": "boolean", "description": "every requested surface ran inputs"},
        "iterations": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        "not_run": {"type": "object", "additionalProperties": {"type": "string"}},
        "findings": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["surface", "kind", "detail", "reproducer", "requirement"],
            "properties": {"surface": {"type": "string"}, "kind": {"type": "string"},
                           "detail": {"type": "string"}, "reproducer": {"type": "string"},
                           "requirement": {"type": "string", "pattern": "^AICO-[A-Z]+-[0-9]{3}$"}}}},
        "environment": _ENVIRONMENT,
    },
}
