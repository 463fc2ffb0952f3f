"""The ClusterFuzzLite integration builds a fuzzer for every harness of the registry, and each one runs.

The Docker build cannot run here (the OSS-Fuzz base images come from gcr.io), so ``.clusterfuzzlite/build.sh``
runs as the builder would run it, with ``$SRC``, ``$OUT`` and ``$WORK`` in temporary folders and two stand-ins
on ``PATH``: ``pip3`` (the project is already installed here) and ``compile_python_fuzzer``, which makes
``$OUT/fuzz_<name>`` an executable running the wrapper with this environment's Python instead of a PyInstaller
bundle. Each built fuzzer then runs with exactly the flags of its ``.options`` file on its unzipped seed corpus.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from aico_secure.fuzz import registry

ROOT = Path(__file__).resolve().parents[2]
CFLITE = ROOT / ".clusterfuzzlite"
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = registry.names()
# The wrapper build.sh writes is the same template for every harness, and verification/test_fuzz_harnesses.py runs
# every harness under the engine's flags already: a sample of differently shaped harnesses (raw bytes, a
# FuzzedDataProvider split, an inspector over files) proves the built wrappers run.
RUN_SAMPLE = tuple(n for n in ("envelope", "gateway_body", "inspect_sqlite") if n in NAMES)

STUB_COMPILE = """#!/bin/sh
# compile_python_fuzzer stand-in: $OUT/<wrapper name> runs the wrapper with the test's Python.
set -eu
base=$(basename "$1" .py)
printf '#!/bin/sh\\nexec %s %s "$@"\\n' "{python}" "$1" > "$OUT/$base"
chmod +x "$OUT/$base"
echo "$*" >> "$WORK/compile-args"
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("cflite")
    dirs = {d: base / d for d in ("SRC", "OUT", "WORK", "bin")}
    for folder in dirs.values():
        folder.mkdir()
    (dirs["bin"] / "compile_python_fuzzer").write_text(STUB_COMPILE.format(python=sys.executable))
    (dirs["bin"] / "pip3").write_text("#!/bin/sh\necho \"pip3 $*\" >> \"$WORK/pip-args\"\n")
    (dirs["bin"] / "python3").write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")  # keeps the venv
    for tool in ("compile_python_fuzzer", "pip3", "python3"):
        (dirs["bin"] / tool).chmod(0o755)
    env = {**os.environ, "SRC": str(dirs["SRC"]), "OUT": str(dirs["OUT"]), "WORK": str(dirs["WORK"]),
           "PATH": f"{dirs['bin']}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", str(CFLITE / "build.sh")], cwd=ROOT, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dirs


def test_the_project_is_installed_then_every_harness_is_compiled(built: dict[str, Path]) -> None:
    assert (built["WORK"] / "pip-args").read_text().split() == ["pip3", "install", "."]
    compiled = (built["WORK"] / "compile-args").read_text().splitlines()
    assert sorted(line.split()[0] for line in compiled) == sorted(str(built["SRC"] / f"fuzz_{n}.py") for n in NAMES)
    assert all("--collect-submodules=aico_secure" in line for line in compiled)


@pytest.mark.parametrize("name", NAMES)
def test_each_harness_gets_a_fuzzer_corpus_dictionary_and_options(built: dict[str, Path], name: str) -> None:
    out, harness = built["OUT"], registry.load(name)
    fuzzer = out / f"fuzz_{name}"
    assert fuzzer.is_file() and os.access(fuzzer, os.X_OK)
    with zipfile.ZipFile(out / f"fuzz_{name}_seed_corpus.zip") as archive:
        assert archive.namelist(), f"empty seed corpus for {name}"
    assert (out / f"fuzz_{name}.dict").is_file() == bool(harness.dictionary)
    options = configparser.ConfigParser()
    options.read(out / f"fuzz_{name}.options")
    assert dict(options["libfuzzer"]) == {"timeout": str(harness.timeout_s),
                                          "rss_limit_mb": str(harness.rss_limit_mb),
                                          "max_len": str(harness.max_len)}


@pytest.mark.parametrize("name", RUN_SAMPLE)
def test_built_fuzzers_run_under_their_options(built: dict[str, Path], name: str, tmp_path: Path) -> None:
    out = built["OUT"]
    options = configparser.ConfigParser()
    options.read(out / f"fuzz_{name}.options")
    flags = [f"-{key}={value}" for key, value in options["libfuzzer"].items()]
    corpus = tmp_path / "corpus"
    with zipfile.ZipFile(out / f"fuzz_{name}_seed_corpus.zip") as archive:
        archive.extractall(corpus)
    proc = subprocess.run([str(out / f"fuzz_{name}"), *flags, "-runs=200", f"-artifact_prefix={tmp_path}/",
                           str(corpus)], cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=300, start_new_session=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Done 200 runs" in proc.stderr or "DONE" in proc.stderr, proc.stderr[-2000:]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_project_yaml_and_dockerfile() -> None:
    assert _yaml(CFLITE / "project.yaml") == {"language": "python"}
    docker = (CFLITE / "Dockerfile").read_text()
    assert "FROM gcr.io/oss-fuzz-base/base-builder-python" in docker
    assert "COPY .clusterfuzzlite/build.sh $SRC/" in docker


@pytest.mark.parametrize("workflow, mode", [("cflite_pr.yml", "code-change"), ("cflite_batch.yml", "batch")])
def test_workflows_build_then_run_the_fuzzers(workflow: str, mode: str) -> None:
    data = _yaml(WORKFLOWS / workflow)
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert ("pull_request" in triggers) == (mode == "code-change")
    assert ("schedule" in triggers) == (mode == "batch")
    [job] = data["jobs"].values()
    assert job["strategy"]["matrix"]["sanitizer"] == ["address"]
    steps = {step["uses"].split("@")[0]: step for step in job["steps"] if "uses" in step}
    build = steps["google/clusterfuzzlite/actions/build_fuzzers"]
    run = steps["google/clusterfuzzlite/actions/run_fuzzers"]
    assert build["uses"].endswith("@v1") and run["uses"].endswith("@v1")
    assert build["with"]["language"] == "python"
    assert run["with"]["mode"] == mode and int(run["with"]["fuzz-seconds"]) > 0
