"""``pip install aico-secure`` with no extras judges, inspects and scans any build: the reference build's engines
and services (the ``reference`` extra), the DuckDB engine (``duckdb``) and Atheris (``fuzz``) are not needed.

The environment is a view of this checkout's environment holding only the core requirement closure
(``core_view``), so nothing is downloaded. What the reference needs must be absent there first, or every other
check here would prove nothing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .core_view import ROOT, CoreView, build, clean_env

# Import names of what only the extras bring. Each must be absent from the core view.
EXTRAS_ONLY = ("chromadb", "rocksdict", "duckdb", "duckdb_extensions", "sqlcipher3", "uvicorn", "starlette",
               "limits", "atheris")
# The packages a core install runs: every module in them must import without the extras.
CORE_PACKAGES = ("aico_secure.cli", "aico_secure.conform", "aico_secure.inspector", "aico_secure.scan",
                 "aico_secure.report", "aico_secure.target", "aico_secure.probes", "aico_secure.keys",
                 "aico_secure.audit")
CANARY = "CANARY-core-7f3a9e"
COMMAND_TIMEOUT = 600  # a hang guard only: a command still running after this is a failure, never a pass


def _python(core: CoreView, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(core.python), "-c", code], cwd=cwd, capture_output=True, text=True,
                          env=clean_env(core), stdin=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT)


def _cli(core: CoreView, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(core.script("aico-secure")), *args], cwd=cwd, capture_output=True, text=True,
                          env=clean_env(core, **env), stdin=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT)


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> CoreView:
    view = build(tmp_path_factory.mktemp("core") / "venv")
    probe = _python(view, "import importlib.util, json, sys\n"
                          f"print(json.dumps([n for n in {EXTRAS_ONLY!r} if importlib.util.find_spec(n)]))",
                    cwd=view.env_dir)
    assert probe.returncode == 0, probe.stderr[-2000:]
    leaked = json.loads(probe.stdout)
    assert not leaked, f"the core view can import what only the extras bring: {leaked}"
    return view


def test_the_core_view_lacks_the_extras_and_holds_the_package_as_a_wheel_does(core: CoreView,
                                                                                tmp_path: Path) -> None:
    assert {"pytest", "pyzmq", "nassl", "numpy", "bandit", "pip-audit"} <= core.distributions
    assert not {"chromadb", "rocksdict", "duckdb", "sqlcipher3-binary", "uvicorn", "starlette", "atheris",
                "aico-secure"} & core.distributions
    proc = _python(core, "import aico_secure, aico_secure.conform.suite as s\n"
                         "print(aico_secure.__file__); print(s.suite_dir())", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    package, suite = proc.stdout.split()
    assert Path(package).is_relative_to(core.site_packages) and str(ROOT) not in package
    assert suite == str(core.site_packages / "aico_secure" / "_suite"), "the suite was not found where a wheel has it"


def test_every_module_of_the_core_packages_imports_without_the_extras(core: CoreView, tmp_path: Path) -> None:
    code = ("import importlib, json, pkgutil\n"
            "failed, count = [], 0\n"
            f"for package in {CORE_PACKAGES!r}:\n"
            "    root = importlib.import_module(package)\n"
            "    for name in [package, *(m.name for m in pkgutil.walk_packages(root.__path__, package + '.'))]:\n"
            "        count += 1\n"
            "        try:\n"
            "            importlib.import_module(name)\n"
            "        except Exception as exc:\n"
            "            failed.append(f'{name}: {exc!r}')\n"
            "print(json.dumps({'count': count, 'failed': failed}))\n")
    proc = _python(core, code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["count"] > 100, f"only {result['count']} modules found: the walk missed the packages"
    assert not result["failed"], "\n".join(result["failed"])


def test_conform_judges_an_outside_build_with_the_whole_suite(core: CoreView, tmp_path: Path) -> None:
    """The toy build has keys only: KM passes, the rest is "not implemented". Any error, failure or test not run
    would mean part of the suite could not even be collected without the extras."""
    proc = _cli(core, "conform", "--target", "toy_adapter:build", "-n", "1", "--format", "json",
                "--output", str(tmp_path / "reports"), "-q", cwd=tmp_path,
                PYTHONPATH=str(ROOT / "docs" / "examples"))
    reports = list((tmp_path / "reports").glob("*.json"))
    assert len(reports) == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(reports[0].read_text())
    outcomes = {r["id"]: r["outcome"] for r in report["requirements"]}
    key_management = {rid: o for rid, o in outcomes.items() if rid.startswith("AICO-KM-")}
    assert key_management and set(key_management.values()) == {"pass"}, key_management
    others = {rid: o for rid, o in outcomes.items() if o not in ("pass", "not implemented")}
    assert not others, f"outcomes that only a broken suite gives the toy build: {others}"
    assert sum(len(r["tests"]) for r in report["requirements"]) > 100, "the suite ran almost nothing"
    assert report["verdict"] == "fail"


def test_conform_without_a_target_is_one_line_and_exit_2(core: CoreView, tmp_path: Path) -> None:
    proc = _cli(core, "conform", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(proc.stderr.strip().splitlines()) == 1 and "--target" in proc.stderr, proc.stderr


@pytest.mark.parametrize("args", [("--target", "aico_secure.reference:build", "--no-report"), ("--controls",)],
                         ids=["reference", "controls"])
def test_the_reference_needs_its_extra_in_one_line(core: CoreView, tmp_path: Path, args: tuple[str, ...]) -> None:
    proc = _cli(core, "conform", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'aico-secure[reference]'" in lines[0], proc.stderr


def test_inspect_finds_a_plaintext_secret(core: CoreView, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "notes.txt").write_text(f"user=alice password={CANARY}\n")
    proc = _cli(core, "inspect", str(data), "--canary", CANARY, "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    found = json.loads(proc.stdout)
    assert [f["found"] for f in found["findings"]] == [f"canary:{CANARY}"]
    assert found["totals"]["files_read"] == 1 and found["complete"]


def test_inspect_without_the_duckdb_engine_leaves_a_plaintext_database_unread(core: CoreView,
                                                                               tmp_path: Path) -> None:
    """Its header alone shows an unencrypted DuckDB file (a finding); its cells need the engine, so the
    inspection is incomplete and says which extra reads them."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "analytics.duckdb").write_bytes(bytes(8) + b"DUCK" + bytes(4084))
    proc = _cli(core, "inspect", str(data), "--canary", CANARY, "--format", "json", cwd=tmp_path)
    assert proc.returncode != 0, proc.stdout[-2000:]
    found = json.loads(proc.stdout)
    assert not found["complete"] and not found["clean"]
    assert any("aico-secure[duckdb]" in u["reason"] for u in found["unreadable"]), found["unreadable"]


def test_scan_runs_bandit_with_the_aico_plugins(core: CoreView, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "vault.py").write_text("import hashlib\n\n\ndef derive(password: bytes, salt: bytes) -> bytes:\n"
                                     "    return hashlib.pbkdf2_hmac('sha256', password, salt, 100_000)\n")
    proc = _cli(core, "scan", str(source), "--only", "static", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    static = [s for s in result["scanners"] if s["name"] == "static"]
    assert static and static[0]["items_scanned"] >= 1 and not result["problems"], result
    assert "AICO-S106" in {f["rule_id"] for f in result["findings"]}, result["findings"]
