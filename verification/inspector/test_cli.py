"""``aico-secure inspect``: exit codes 0/1/2, option files, output files, and the canary workload mode."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aico_secure.cli.main import main


def test_clean_directory_exits_0(tmp_path: Path, canary: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.bin").write_bytes(os.urandom(100))
    assert main(["inspect", str(tmp_path), "--canary", canary]) == 0
    assert "CLEAN" in capsys.readouterr().out


def test_findings_exit_1_and_option_files_are_read(tmp_path: Path, canary: str, key: bytes) -> None:
    data = tmp_path / "data"
    data.mkdir()
    vector = [0.5, -0.25, 0.75, 0.125, 0.3, -0.6]
    (data / "vec.bin").write_bytes(b"\x01" + json.dumps(vector).encode())  # not floats: no vector finding
    (data / "k.txt").write_text(key.hex())
    (tmp_path / "canaries.txt").write_text(f"{canary}\n\nanother-canary-x\n")
    (tmp_path / "vectors.json").write_text(json.dumps([vector]))
    out = tmp_path / "report.json"
    code = main(["inspect", str(data), "--canary-file", str(tmp_path / "canaries.txt"), "--vector-canary",
                 str(tmp_path / "vectors.json"), "--key-hex", key.hex(), "--format", "json", "--output", str(out)])
    assert code == 1
    report = json.loads(out.read_text())
    assert report["searched"]["canaries"] == [canary, "another-canary-x"]
    assert [f["found"] for f in report["findings"]] == ["key:key-hex#1"]
    assert key.hex() not in out.read_text()


@pytest.mark.parametrize("argv", [
    ["inspect", "{dir}"],  # nothing to look for
    ["inspect", "{dir}/missing", "--canary", "abcdefgh"],
    ["inspect", "{dir}", "--key-hex", "not-hex"],
    ["inspect", "{dir}", "--canary", "ab"],  # too short to be distinctive
    ["inspect", "{dir}", "--vector-canary", "{dir}/missing.json"],
    ["inspect", "{dir}", "--canary", "abcdefgh", "--format", "xml"],
    ["inspect", "{dir}", "--canary", "abcdefgh", "--target", "x.y:z"],  # --target without --workload
    ["inspect", "{dir}", "--workload"],  # --workload without --target
])
def test_usage_errors_exit_2(tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.bin").write_bytes(b"x" * 10)
    try:
        code = main([a.format(dir=tmp_path) for a in argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    else:
        assert capsys.readouterr().err.count("\n") == 1, "a usage error is one line"
    assert code == 2


def test_an_empty_directory_exits_2(tmp_path: Path, canary: str) -> None:
    assert main(["inspect", str(tmp_path), "--canary", canary]) == 2


def test_a_bad_key_is_not_echoed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret_looking = "00" * 15 + "zz"
    assert main(["inspect", str(tmp_path), "--key-hex", secret_looking]) == 2
    assert secret_looking not in capsys.readouterr().err


def test_workload_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("x")
    assert main(["inspect", "--workload", "--target", "aico_secure.reference:build", str(tmp_path)]) == 2


def test_workload_against_the_reference_build_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    code = main(["inspect", "--workload", "--target", "aico_secure.reference:build", str(tmp_path / "data"),
                 "--format", "json", "--output", str(out)])
    report = json.loads(out.read_text())
    assert report["findings"] == [] and report["totals"]["files_read"] > 5, report["findings"][:3]
    assert "keys" in report["workload"]["driven"] and "logs" in report["workload"]["driven"]
    assert code == (1 if report["workload"]["not_implemented"] else 0)
