"""The built wheel carries the whole conformance suite and runs it outside this checkout, both ways:
``aico-secure conform --target ...`` and ``pytest --aico-target=...`` (the pytest11 plugin).

The fresh venv gets the wheel with ``--no-deps``; its third-party dependencies come from this checkout's
environment through a ``.pth`` path entry (a path entry, so this checkout's editable install is *not*
activated there). Installing chromadb & co. from PyPI again would only test pip.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    # No build isolation: pip would download hatchling from PyPI; the dev extra installs it into this venv.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(work / "dist"), str(ROOT)], check=True, stdin=subprocess.DEVNULL)
    wheels = list((work / "dist").glob("aico_secure-*.whl"))
    assert len(wheels) == 1
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "aico_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheels[0])], check=True)
    return env_dir


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "PYTHONPATH"}
    return env


def test_wheel_ships_the_suite_and_its_catalog(wheel_venv: Path, tmp_path: Path) -> None:
    out = subprocess.run([str(wheel_venv / "bin" / "python"), "-c",
                          "import aico_secure, aico_secure.conform.suite as s; print(aico_secure.__file__);"
                          "print(s.suite_dir())"], cwd=tmp_path, check=True, capture_output=True, text=True,
                         env=_clean_env()).stdout.split()
    assert str(ROOT) not in out[0], "aico_secure was imported from the checkout, not the wheel"
    assert out[1].endswith("aico_secure/_suite")
    assert (Path(out[1]) / "requirements.yaml").is_file()


def test_conform_runs_from_the_wheel_outside_the_checkout(wheel_venv: Path, tmp_path: Path) -> None:
    proc = subprocess.run([str(wheel_venv / "bin" / "aico-secure"), "conform", "--target",
                           "aico_secure.reference:build", "--report-dir", str(tmp_path / "reports"), "-n", "2"],
                          cwd=tmp_path, capture_output=True, text=True, env=_clean_env(), stdin=subprocess.DEVNULL)
    reports = list((tmp_path / "reports").glob("*.json"))
    assert reports, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(reports[0].read_text())
    assert sum(len(r["tests"]) for r in data["requirements"]) > 100, "the wheel's suite ran almost nothing"
    assert proc.returncode == 0 and data["verdict"] == "pass", proc.stdout[-3000:]


def test_pytest_plugin_runs_the_suite_from_the_wheel(wheel_venv: Path, tmp_path: Path) -> None:
    """A build's own test run: plain pytest with --aico-target adds the suite through the pytest11 plugin."""
    (tmp_path / "test_own.py").write_text("def test_build_own_test():\n    assert True\n")
    proc = subprocess.run([str(wheel_venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--aico-target=aico_secure.reference:build", "--aico-requirements=AICO-KM-002,AICO-KM-011"],
                          cwd=tmp_path, capture_output=True, text=True, env=_clean_env(), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "AICO-KM-002" in proc.stdout and "AICO-KM-011" in proc.stdout
    assert "test_own.py" in proc.stdout or " passed" in proc.stdout


def test_scan_runs_from_the_wheel_with_its_bandit_plugins(wheel_venv: Path, tmp_path: Path) -> None:
    """The AICO rules are bandit plugins registered by the wheel's entry points: a scan from the wheel finds them."""
    flawed = ROOT / "verification" / "scan" / "fixtures" / "static" / "flawed"
    proc = subprocess.run([str(wheel_venv / "bin" / "aico-secure"), "scan", str(flawed), "--only", "static",
                           "--format", "json"], cwd=tmp_path, capture_output=True, text=True, env=_clean_env(),
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    rules = {f["rule_id"] for f in json.loads(proc.stdout)["findings"]}
    assert {f"AICO-S10{n}" for n in range(1, 10)} <= rules, sorted(rules)


def test_fuzz_runs_from_the_wheel_outside_the_checkout(wheel_venv: Path, tmp_path: Path) -> None:
    """The harnesses ship in the package: listed and run from an install, with a corpus seeded from the
    harness's own seeds and artifacts under ./fuzz-artifacts/ (there is no fuzz/ folder to use)."""
    from aico_secure.fuzz import registry

    exe = str(wheel_venv / "bin" / "aico-secure")
    listed = subprocess.run([exe, "fuzz", "--list"], cwd=tmp_path, capture_output=True, text=True, env=_clean_env(),
                            stdin=subprocess.DEVNULL, timeout=300)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(registry.names())
    proc = subprocess.run([exe, "fuzz", "envelope", "--runs", "200", "--output", str(tmp_path / "envelope.json")],
                          cwd=tmp_path, capture_output=True, text=True, env=_clean_env(), stdin=subprocess.DEVNULL,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "fuzz-artifacts" / "envelope").is_dir()
    result = json.loads((tmp_path / "envelope.json").read_text())
    assert result["finished_budget"] and result["stats"]["executed_units"] == 200
