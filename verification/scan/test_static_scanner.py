"""The static scanner on whole trees: the flawed fixture raises exactly the marked rules, its clean twin nothing,
plain ``bandit -r`` with this package installed finds the same, and whatever could not be scanned is a problem.

Each line of the flawed fixture that must raise a rule carries ``# expect: RULE``, so the expected findings
live next to the code that causes them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aico_secure.scan._scanner.interface import ScanOptions
from aico_secure.scan._scanner.static import StaticScanner, mask_line
from aico_secure.scan.bandit_plugins._shapes import KEY_TOKEN
from aico_secure.scan.model import ScanReport
from aico_secure.scan.rules import RULES

FIXTURES = Path(__file__).parent / "fixtures" / "static"
FLAWED = FIXTURES / "flawed"
CLEAN = FIXTURES / "clean"
_EXPECT = re.compile(r"#\s*expect:\s*(AICO-S\d+)")


def expected(root: Path) -> set[tuple[str, int, str]]:
    marks = set()
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for rule_id in _EXPECT.findall(line):
                marks.add((path.relative_to(root).as_posix(), number, rule_id))
    return marks


def test_flawed_tree_raises_exactly_the_marked_rules() -> None:
    result = StaticScanner().scan(FLAWED, ScanOptions())
    assert result.problems == []
    assert result.items_scanned == len(list(FLAWED.rglob("*.py"))) > 0
    ours = {(f.path, f.line, f.rule_id) for f in result.findings if f.rule_id.startswith("AICO-")}
    marks = expected(FLAWED)
    assert {m[2] for m in marks} == {r.id for r in RULES}, "the fixture must exercise every rule"
    assert ours == marks
    for finding in result.findings:
        assert finding.scanner == "static"
        if finding.rule_id.startswith("AICO-"):
            assert finding.requirement and finding.cwe and finding.snippet
    assert ScanReport(root=FLAWED, results=[result]).exit_code == 1


def test_clean_twin_raises_nothing() -> None:
    result = StaticScanner().scan(CLEAN, ScanOptions())
    assert result.problems == []
    assert result.items_scanned == len(list(CLEAN.rglob("*.py"))) > 0
    assert result.findings == []
    assert ScanReport(root=CLEAN, results=[result]).exit_code == 0


def test_no_finding_carries_a_key() -> None:
    keys = {m.group(0) for p in FLAWED.rglob("*.py") for m in KEY_TOKEN.finditer(p.read_text())}
    assert keys, "the flawed fixture holds hard-coded keys"
    result = StaticScanner().scan(FLAWED, ScanOptions())
    for finding in result.findings:
        for key in keys:
            assert key not in finding.snippet and key not in finding.message, finding.rule_id


def test_masking_hides_bandit_password_values(tmp_path: Path) -> None:
    """Bandit's own hard-coded password test quotes the value in its message; the finding must not."""
    (tmp_path / "settings.py").write_text('db_password = "Xk9-pTq2-hunter2-correct"\n')
    result = StaticScanner().scan(tmp_path, ScanOptions())
    b105 = [f for f in result.findings if f.rule_id == "B105"]
    assert b105, [f.rule_id for f in result.findings]
    for finding in b105:
        assert "hunter2" not in finding.message and "hunter2" not in finding.snippet
        assert finding.snippet == 'db_password = "***"'


def test_mask_line_keeps_non_secret_text() -> None:
    assert mask_line('sock.bind("tcp://*:5555")', "AICO-S103") == ('sock.bind("tcp://*:5555")', [])


def test_plain_bandit_finds_the_same_rules() -> None:
    bandit = Path(sys.executable).parent / "bandit"
    assert bandit.exists(), bandit
    found = {}
    for name, root in (("flawed", FLAWED), ("clean", CLEAN)):
        run = subprocess.run(
            [str(bandit), "-r", str(root), "-f", "json", "-q"], capture_output=True, text=True, timeout=120
        )
        report = json.loads(run.stdout)
        assert not report["errors"], report["errors"]
        found[name] = {
            (Path(r["filename"]).relative_to(root).as_posix(), r["line_number"], r["test_id"])
            for r in report["results"]
            if r["test_id"].startswith("AICO-")
        }
    assert found["flawed"] == expected(FLAWED)
    assert found["clean"] == set()


def test_unparsable_file_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text('sock.bind("tcp://*:5555")\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "broken.py").write_text("def broken(:\n    pass\n")
    (tmp_path / "pkg" / "latin.py").write_bytes(b"name = '\xff\xfe'\n")
    result = StaticScanner().scan(tmp_path, ScanOptions())
    assert result.items_scanned == 1
    assert len(result.problems) == 2
    assert any("pkg/broken.py" in p for p in result.problems)
    assert any("pkg/latin.py" in p for p in result.problems)
    assert [f.rule_id for f in result.findings if f.rule_id.startswith("AICO-")] == ["AICO-S103"]
    assert ScanReport(root=tmp_path, results=[result]).exit_code == 2


def test_tree_without_python_scans_nothing_without_a_problem(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("no code here\n")
    result = StaticScanner().scan(tmp_path, ScanOptions())
    assert (result.items_scanned, result.problems, result.findings) == (0, [], [])
    assert ScanReport(root=tmp_path, results=[result]).exit_code == 2  # nothing scanned by any scanner


def test_virtualenvs_and_vcs_metadata_are_not_walked(tmp_path: Path) -> None:
    env = tmp_path / "env" / "lib" / "site-packages"
    env.mkdir(parents=True)
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (env / "vendored.py").write_text('sock.bind("tcp://*:1")\n')
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "hook.py").write_text('sock.bind("tcp://*:2")\n')
    (tmp_path / "app.py").write_text('sock.bind("tcp://127.0.0.1:3")\n')
    result = StaticScanner().scan(tmp_path, ScanOptions())
    assert (result.items_scanned, result.problems, result.findings) == (1, [], [])


@pytest.mark.parametrize("name", ["test_bus.py", "conftest.py"])
def test_asserts_in_pytest_files_are_not_findings(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("def test_x():\n    assert 1 + 1 == 2\n")
    (tmp_path / "lib.py").write_text("def check(x):\n    assert x\n")
    result = StaticScanner().scan(tmp_path, ScanOptions())
    assert [(f.path, f.rule_id) for f in result.findings] == [("lib.py", "B101")]


def test_running_out_of_time_is_a_problem(tmp_path: Path) -> None:
    for index in range(3):
        (tmp_path / f"m{index}.py").write_text("x = 1\n")
    result = StaticScanner().scan(tmp_path, ScanOptions(timeout_seconds=-1))
    assert result.items_scanned == 0
    assert result.problems == ["timed out after -1s: 3 file(s) not scanned"]
