"""``aico-secure fuzz`` end to end, in process: the listing, ``--all`` with its summary read from libFuzzer's own
figures (and a run whose figures cannot be read failing as "not measured"), ``--reproduce``, ``--minimize`` and
contract-level fuzzing of the reference build and of a negative control.

Campaigns here run as from an installed package (``checkout_fuzz_dir`` patched to ``None``: a seeded temporary
corpus, artifacts under the test's folder), so a test never grows the checked-in corpus. A planted entry module
(``campaign.ENTRY_MODULE``, importable through ``PYTHONPATH``) stands in for libFuzzer where an outcome cannot be
had from a real harness on demand: a crash, garbage output.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from aico_secure.cli.main import main
from aico_secure.fuzz import campaign, registry
from aico_secure.fuzz.interface import Harness
from aico_secure.report import _source

CRASHES_ON = """import sys


def main(argv):
    import atheris

    def one(data):
        if b"CRASH" in data:
            raise RuntimeError("planted crash")

    atheris.Setup([argv[0], *argv[2:]], one)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
"""
GARBAGE = "print('this is not libFuzzer')\n"


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(campaign, "checkout_fuzz_dir", lambda: None)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _plant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    (tmp_path / "planted_entry.py").write_text(source)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(campaign, "ENTRY_MODULE", "planted_entry")


def test_list_names_every_harness_and_its_surface(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(registry.names())
    assert all(registry.load(line.split()[0]).surface in line for line in lines)


def test_all_runs_each_harness_and_summarises_libfuzzer_figures(installed: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(registry, "names", lambda: ("envelope", "keyring"))
    assert main(["fuzz", "--all", "--max-time", "3", "-j", "2", "--output", str(installed / "results")]) == 0
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in out.splitlines() if line.count("│") == 9}
    assert set(rows) >= {"envelope", "keyring"}
    for name in ("envelope", "keyring"):
        execs, cov, ft, corpus, new, rss, findings = rows[name]
        assert int(execs) >= 0
        assert int(cov) > 0 and int(ft) > 0 and "/" in corpus and int(new) >= 0 and rss.endswith("MB")
        assert findings == "0"
        doc = json.loads((installed / "results" / f"{name}.json").read_text())
        assert doc["finished_budget"] and doc["stats"]["cov"] == int(cov) and doc["stats"]["executed_units"] > 0
        report = _source.load(installed / "results" / f"{name}.json")
        assert report.sources[0].complete and not report.findings
    assert "2 clean, 0 with findings, 0 not measured" in out


def test_unreadable_figures_are_not_measured_and_fail(installed: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _plant(installed, monkeypatch, GARBAGE)
    monkeypatch.setattr(registry, "names", lambda: ("envelope",))
    assert main(["fuzz", "--all", "--runs", "10", "--output", str(installed / "results")]) == 2
    out = capsys.readouterr().out
    assert "not measured" in out and "1 not measured" in out and "0 clean" in out
    doc = json.loads((installed / "results" / "envelope.json").read_text())
    assert doc["stats"] is None and not doc["finished_budget"]
    assert not _source.load(installed / "results" / "envelope.json").sources[0].complete
    assert main(["fuzz", "envelope", "--runs", "10"]) == 2  # a single campaign fails the same way


class _Planted(Harness):
    name, surface, refusals = "planted", "test: KeyError on b'bad', the documented ValueError otherwise", (ValueError,)

    def run(self, data: bytes) -> None:
        if data == b"bad":
            raise KeyError("missing")  # the planted undocumented exception
        raise ValueError("documented refusal")


def test_reproduce_prints_each_failure_with_where_it_was_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    real_load = registry.load
    monkeypatch.setattr(registry, "load", lambda name: _Planted() if name == "planted" else real_load(name))
    (tmp_path / "ok").write_bytes(b"fine")
    (tmp_path / "bad").write_bytes(b"bad")
    assert main(["fuzz", "planted", "--reproduce", str(tmp_path / "ok"), str(tmp_path / "bad")]) == 1
    [line] = capsys.readouterr().out.splitlines()
    assert str(tmp_path / "bad") in line and "KeyError" in line and "test_campaign.py:" in line
    assert main(["fuzz", "planted", "--reproduce", str(tmp_path / "ok")]) == 0
    assert main(["fuzz", "planted", "--reproduce", str(tmp_path / "absent")]) == 2


def test_minimize_keeps_the_smallest_crashing_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _plant(tmp_path, monkeypatch, CRASHES_ON)
    crash = tmp_path / "crash-input"
    crash.write_bytes(b"x" * 40 + b"CRASH" + b"y" * 40)
    into = tmp_path / "regressions"
    assert main(["fuzz", "envelope", "--minimize", str(crash), "--into", str(into)]) == 0
    kept = Path(capsys.readouterr().out.strip())
    assert kept.parent == into and kept.read_bytes() == b"CRASH"
    assert kept.name == hashlib.sha256(b"CRASH").hexdigest()[:40]
    harmless = tmp_path / "harmless"
    harmless.write_bytes(b"nothing here")
    assert main(["fuzz", "envelope", "--minimize", str(harmless), "--into", str(into)]) == 2
    assert "no crashing input" in capsys.readouterr().err


def test_target_reference_is_ok_and_merges_as_complete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "contract.json"
    assert main(["fuzz", "--target", "aico_secure.reference:build", "--max-time", "15", "--seed", "1",
                 "--output", str(out)]) == 0, capsys.readouterr()
    report = _source.load(out)
    assert report.sources[0].complete and not report.findings
    assert all(v > 0 for v in json.loads(out.read_text())["iterations"].values())


def test_target_control_with_a_planted_fault_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "contract.json"
    assert main(["fuzz", "--target", "conformance.controls.bus_dies_on_malformed_topic:build", "--surface", "bus",
                 "--max-time", "25", "--seed", "1", "--output", str(out)]) == 1
    assert "FINDING [bus] stopped-serving" in capsys.readouterr().out
    findings = _source.load(out).findings
    assert findings and {f.requirement for f in findings} == {"AICO-BUS-008"}


def test_target_that_cannot_load_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--target", "no_such_pkg.mod:build", "--max-time", "5"]) == 2
    assert "no_such_pkg" in capsys.readouterr().err


def test_usage_errors_are_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--all"]) == 2  # no bound for every harness: refused, not 600 s each
    assert main(["fuzz", "nope", "--runs", "5"]) == 2
    assert main(["fuzz", "envelope", "--runs", "5", "--libfuzzer-arg=-runs=-1"]) == 2
    assert main(["fuzz", "--target", "aico_secure.reference:build", "--surface", "teleport"]) == 2
    assert main(["fuzz", "envelope", "--runs", "5", "--seed", "3"]) == 2  # an option of another mode: refused
    assert all(line.startswith("aico-secure fuzz: ") for line in capsys.readouterr().err.splitlines())
