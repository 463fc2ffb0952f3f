"""``aico-secure scan`` end to end, as a release pipeline calls it: exit 0 clean, 1 findings, 2 could not scan
(with a one-line reason), every format written where asked. Dependency audits run against the offline OSV
records of the fixtures, on 127.0.0.1 only."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
OSV_DB = FIXTURES / "dependencies" / "osv"


def _scan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "scan", *args], cwd=cwd,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


def _tree(tmp_path: Path, kind: str) -> Path:
    """One tree holding every scanner's fixture of one kind ("flawed" or "clean")."""
    root = tmp_path / kind
    for scanner in ("static", "config", "dependencies"):
        shutil.copytree(FIXTURES / scanner / kind, root / scanner)
    return root


def test_a_flawed_tree_has_findings_from_every_scanner(tmp_path: Path) -> None:
    proc = _scan(str(_tree(tmp_path, "flawed")), "--osv-db", str(OSV_DB), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    found = {f["scanner"] for f in report["findings"]}
    assert {"static", "config", "dependencies"} <= found, found
    assert not report["problems"], report["problems"]


def test_the_clean_twin_is_clean(tmp_path: Path) -> None:
    proc = _scan(str(_tree(tmp_path, "clean")), "--osv-db", str(OSV_DB), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "verdict: clean" in proc.stdout


def test_a_tree_with_nothing_to_scan_is_not_clean(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.md").write_text("# nothing here\n")
    proc = _scan(str(tmp_path / "empty"), "--osv-db", str(OSV_DB), cwd=tmp_path)
    assert proc.returncode == 2
    assert "nothing was scanned" in proc.stdout


def test_unreachable_vulnerability_data_is_not_clean(tmp_path: Path) -> None:
    proc = _scan(str(_tree(tmp_path, "clean")), "--osv-url", "http://127.0.0.1:9/", "--only", "dependencies",
                 cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout[-2000:]
    assert "No known vulnerabilities" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("args", [["/no/such/dir"], ["{tmp}", "--format", "html"], ["{tmp}", "--osv-db", "/no/db"],
                                  ["{tmp}", "--osv-db", "{tmp}", "--osv-url", "http://127.0.0.1:9/"]],
                         ids=["missing-tree", "unknown-format", "missing-osv-db", "two-vulnerability-sources"])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    proc = _scan(*[a.replace("{tmp}", str(tmp_path)) for a in args], cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_several_formats_are_written_to_a_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _scan(str(_tree(tmp_path, "flawed")), "--osv-db", str(OSV_DB), "--format", "json", "--format", "sarif",
                 "--format", "cyclonedx", "--format", "text", "--output", str(out), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["scan.cdx.json", "scan.json", "scan.sarif", "scan.txt"]
    bom = json.loads((out / "scan.cdx.json").read_text())
    assert bom["bomFormat"] == "CycloneDX" and bom["components"]
    assert json.loads((out / "scan.sarif").read_text())["runs"][0]["results"]


def test_this_package_is_clean_or_justified() -> None:
    """The toolkit's own source passes its own scan: every finding is justified, with an expiry, in the committed
    baseline (verification/scan/self-baseline.json), and its cryptographic inventory is no weaker than there.
    A new finding, an expired justification or a weaker algorithm fails this test."""
    package = Path(__file__).resolve().parents[2] / "aico_secure"
    proc = _scan(str(package), "--only", "static", "--only", "config", "--only", "crypto", "--baseline",
                 str(Path(__file__).with_name("self-baseline.json")), cwd=package.parent)
    assert proc.returncode == 0, proc.stdout[-4000:]
