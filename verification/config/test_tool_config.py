"""``[tool.aico-secure]``: which file, what it may say, and how it lies between the command line and the defaults.

Most tests call the parser with the layering (``layering.parse_args``) directly: that is the code the command
line runs, without paying for a process. Two run the real ``aico-secure`` command, on paths that stop before
anything is run (``config show``, and a refused configuration).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aico_secure.cli.main import build_parser, main
from aico_secure.config import ConfigError, cache, layering, project
from aico_secure.conform.limits import MAX_WORKERS

_SCRIPT = Path(sys.executable).with_name("aico-secure")
CLI = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "aico_secure.cli.main"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root (``.git`` bounds the search) as the current directory, with no cache variable set."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(cache.ENV, raising=False)
    return tmp_path


def write(folder: Path, text: str, name: str = "pyproject.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def parse(*argv: str) -> Any:
    return layering.parse_args(build_parser(argv[0]), list(argv))


CONFORM = """
[project]
name = "team-build"

[tool.aico-secure]
target = "team.adapter:build"

[tool.aico-secure.conform]
profile = "full"
output = "gate/reports"
formats = ["json", "sarif"]
workers = 2
test-timeout = 45
waivers = "waivers.yaml"
"""


# ---- precedence ---------------------------------------------------------------------------------------------
def test_the_file_gives_what_the_command_line_does_not(repo: Path) -> None:
    write(repo, CONFORM)
    args = parse("conform")
    assert (args.target, args.profile, args.workers, args.test_timeout) == ("team.adapter:build", "full", 2, 45.0)
    assert args.formats == ["json", "sarif"]


def test_the_command_line_overrides_the_file(repo: Path) -> None:
    write(repo, CONFORM)
    args = parse("conform", "--profile", "release", "--target", "other:build", "-n", "1", "--format", "html",
                 "--test-timeout", "9")
    assert (args.target, args.profile, args.workers, args.test_timeout) == ("other:build", "release", 1, 9.0)
    assert args.formats == ["html"]  # a list on the command line replaces the file's


def test_the_old_report_format_spelling_also_overrides_the_files_formats(repo: Path) -> None:
    write(repo, CONFORM)
    args = parse("conform", "--report-format", "markdown")
    assert args.formats is None and args.report_format == ["markdown"]


def test_defaults_where_neither_says_anything(repo: Path) -> None:
    write(repo, "[tool.aico-secure.conform]\nquiet = true\n")
    args = parse("conform")
    assert (args.profile, args.output, args.workers, args.formats, args.quiet) == ("quick", "reports", 1, None, True)


def test_a_file_without_the_table_or_no_file_at_all_is_no_configuration(repo: Path) -> None:
    expected = vars(build_parser("conform").parse_args(["conform"]))
    assert project.load() is None
    assert {k: v for k, v in vars(parse("conform")).items() if k != "cache_dir"} == \
        {k: v for k, v in expected.items() if k != "cache_dir"}
    write(repo, "[project]\nname = 'x'\n[tool.ruff]\nline-length = 100\n")
    assert project.load() is None
    assert parse("conform").profile == "quick"


def test_inspect_and_scan_read_their_own_tables(repo: Path) -> None:
    write(repo, '[tool.aico-secure]\ntarget = "t.m:f"\n[tool.aico-secure.inspect]\nformats = ["json"]\n'
                'file-time-budget = 2.5\nproduction-kdf = true\ncanaries = ["CANARY-1"]\n'
                '[tool.aico-secure.scan]\nonly = ["config"]\nrequirements = ["req.txt"]\n')
    inspect = parse("inspect", "data")
    assert (inspect.target, inspect.format, inspect.file_time_budget, inspect.production_kdf, inspect.canary) == \
        ("t.m:f", ["json"], 2.5, True, ["CANARY-1"])
    scan = parse("scan", "src")
    assert scan.only == ["config"] and scan.requirements == [str(repo / "req.txt")]
    assert not hasattr(scan, "target") or scan.target is None


def test_help_still_shows_the_built_in_defaults(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, CONFORM)
    with pytest.raises(SystemExit):
        main(["inspect", "--help"])
    out = capsys.readouterr().out
    assert "SUPPRESS" not in out and "(default 300" in " ".join(out.split())


# ---- where the file is and what relative paths mean ---------------------------------------------------------
def test_relative_paths_are_relative_to_the_pyproject_folder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo, CONFORM + 'cache-dir = "../cache"\n')
    deep = repo / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    args = parse("conform", "--baseline", "old.json")
    assert Path(args.output) == repo / "gate" / "reports"
    assert Path(args.waivers) == repo / "waivers.yaml"
    assert Path(args.cache_dir).resolve() == (repo / ".." / "cache").resolve()
    assert args.baseline == "old.json"  # a command-line path stays relative to where the command runs


def test_the_search_stops_at_the_repository_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, CONFORM)  # a folder the repository was cloned into
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo")
    assert project.load() is None
    assert parse("conform").profile == "quick"


def test_an_explicit_config_file_is_used_wherever_it_is(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    write(repo, CONFORM)
    elsewhere = tmp_path_factory.mktemp("ci")
    chosen = write(elsewhere, '[tool.aico-secure.conform]\nprofile = "release"\noutput = "out"\n', "gate.toml")
    args = parse("conform", "--config", str(chosen))
    assert args.profile == "release" and Path(args.output) == elsewhere / "out"
    assert args.target is None  # the nearest pyproject.toml is not read as well


def test_an_explicit_config_file_that_is_missing_is_an_error(repo: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        parse("conform", "--config", str(repo / "absent.toml"))


# ---- what is refused: one line, exit 2 ----------------------------------------------------------------------
def refused(repo: Path, text: str, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    write(repo, text)
    assert main(list(argv or ("conform", "--no-report"))) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_an_unknown_key_is_refused_by_name(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(repo, '[tool.aico-secure.conform]\nprofle = "full"\n', capsys)
    assert "unknown key 'tool.aico-secure.conform.profle'" in err


def test_a_command_option_at_the_top_level_is_refused_with_a_hint(repo: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(repo, '[tool.aico-secure]\nprofile = "full"\n', capsys)
    assert "'tool.aico-secure.profile'" in err and "[tool.aico-secure.conform]" in err


def test_an_unknown_command_table_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "'tool.aico-secure.report'" in refused(repo, '[tool.aico-secure.report]\nformats = ["json"]\n', capsys)


@pytest.mark.parametrize(("text", "expected"), [
    ('[tool.aico-secure.conform]\nworkers = "2"\n', "conform.workers"),
    ('[tool.aico-secure.conform]\nworkers = true\n', "conform.workers"),
    ('[tool.aico-secure.conform]\nformats = "json"\n', "conform.formats"),
    ('[tool.aico-secure.conform]\ntest-timeout = -1\n', "conform.test-timeout"),
    ('[tool.aico-secure.conform]\ntest-timeout = nan\n', "not a finite number"),
    ('[tool.aico-secure.conform]\nprofile = "fast"\n', "'fast' is not one of quick, full, release"),
    ('[tool.aico-secure]\ntarget = "no-colon"\n', "tool.aico-secure.target"),
    ('[tool.aico-secure]\nconform = 3\n', "tool.aico-secure.conform"),
])
def test_a_wrong_type_or_value_is_refused(repo: Path, capsys: pytest.CaptureFixture[str], text: str,
                                          expected: str) -> None:
    assert expected in refused(repo, text, capsys)


def test_a_value_the_option_itself_refuses_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(repo, '[tool.aico-secure.inspect]\nfile-time-budget = inf\n', capsys, "inspect", "d")
    assert "file-time-budget" in err


def test_malformed_toml_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "not valid TOML" in refused(repo, "[tool.aico-secure.conform\nprofile = 1\n", capsys)


def test_a_file_that_is_not_text_or_too_large_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_bytes(b"[tool.aico-secure]\ntarget = '\xff'\n")
    assert main(["conform", "--no-report"]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    write(repo, "# " + "x" * project.MAX_BYTES + "\n")
    assert main(["conform", "--no-report"]) == 2
    assert "larger than" in capsys.readouterr().err
    fifo = repo / "fifo.toml"
    os.mkfifo(fifo)  # opened without blocking: refused at once instead of waiting for a writer
    assert main(["conform", "--no-report", "--config", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_exclusive_options_stay_exclusive(repo: Path) -> None:
    write(repo, '[tool.aico-secure.scan]\nosv-db = "osv"\n')
    assert parse("scan", "src", "--osv-url", "http://127.0.0.1:9").osv_db is None  # the command line's choice
    write(repo, '[tool.aico-secure.scan]\nosv-db = "osv"\nosv-url = "http://127.0.0.1:9"\n')
    with pytest.raises(ConfigError, match="cannot be used together"):
        parse("scan", "src")


def test_the_schema_bounds_workers_as_the_runner_does() -> None:
    conform = project.schema()["properties"]["conform"]["properties"]
    assert conform["workers"]["maximum"] == MAX_WORKERS


def test_every_key_maps_to_a_real_option_and_the_schema_knows_every_key() -> None:
    properties = project.schema()["properties"]
    for command, keys in layering.KEYS.items():
        sub = layering.subparser(build_parser(command), command)
        dests = {action.dest for action in sub._actions}
        assert {key.dest for key in keys} <= dests, command
        assert {key.name for key in keys} == set(properties[command]["properties"]), command
        shared = {key.name for key in keys if key.shared}
        assert shared <= set(properties), command


# ---- the cache directory: command line > environment > file > platform default -----------------------------
def test_cache_dir_precedence(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(repo / "xdg"))
    assert parse("conform").cache_dir == str(repo / "xdg" / "aico-secure")
    write(repo, '[tool.aico-secure]\ncache-dir = "from-file"\n')
    assert parse("conform").cache_dir == str(repo / "from-file")
    monkeypatch.setenv(cache.ENV, str(repo / "from-env"))
    assert parse("conform").cache_dir == str(repo / "from-env")
    assert parse("conform", "--cache-dir", "given").cache_dir == "given"


def test_the_cache_dir_is_handed_to_a_run_and_taken_back(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """conform hands its cache directory to the suite's processes through the environment, for the run only."""
    monkeypatch.setenv(cache.ENV, "/before")
    with cache.exported(repo / "run"):
        assert os.environ[cache.ENV] == str(repo / "run")
    assert os.environ[cache.ENV] == "/before"
    monkeypatch.delenv(cache.ENV)
    with cache.exported(Path("relative")):
        assert Path(os.environ[cache.ENV]).is_absolute()
    assert cache.ENV not in os.environ


# ---- the real command ---------------------------------------------------------------------------------------
def test_config_show_prints_each_value_and_where_it_came_from(repo: Path) -> None:
    write(repo, CONFORM)
    env = {k: v for k, v in os.environ.items() if k != cache.ENV}
    done = subprocess.run([*CLI, "config", "show", "conform", "--profile", "quick"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    conform = shown["commands"]["conform"]
    assert shown["config"] == str(repo / "pyproject.toml")
    assert conform["profile"] == {"value": "quick", "from": "command line"}
    assert conform["workers"] == {"value": 2, "from": f"{repo / 'pyproject.toml'} [tool.aico-secure.conform]"}
    assert conform["target"]["from"] == f"{repo / 'pyproject.toml'} [tool.aico-secure]"
    assert conform["load-timeout"]["from"] == "default"


def test_the_real_command_refuses_a_bad_file_before_running_anything(repo: Path) -> None:
    write(repo, '[tool.aico-secure.conform]\nworkers = 0\n')
    done = subprocess.run([*CLI, "conform"], cwd=repo, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "tool.aico-secure.conform.workers" in done.stderr
    assert not (repo / "reports").exists()
