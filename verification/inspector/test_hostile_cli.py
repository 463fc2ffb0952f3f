"""Hostile paths and inputs: non-UTF-8 names and canaries, OS errors, special files, deep or huge JSON, and a
report written into the inspected directory. Each is reported, or a one-line message and exit 2; never a
traceback, never a hang."""

from __future__ import annotations

import json
import os
import re
import resource
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aico_secure.cli.main import main
from verification.unprivileged import without_read_through

CLI = [sys.executable, "-m", "aico_secure.cli.main", "inspect"]


def _cli(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([*CLI, *args], stderr=subprocess.PIPE, text=True, timeout=120,  # type: ignore[call-overload]
                          **kwargs)


def _one_line_exit_2(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b
                                                      and b not in (b".", b"..")),
       fmt=st.sampled_from(["text", "json", "sarif"]))
def test_any_file_name_is_reported_escaped_in_every_format(tmp_path_factory: pytest.TempPathFactory, name: bytes,
                                                           fmt: str) -> None:
    root = tmp_path_factory.mktemp("names")
    canary = f"name-canary-{secrets.token_hex(4)}"
    (Path(os.fsdecode(bytes(root))) / os.fsdecode(name)).write_bytes(canary.encode())
    out = root.parent / f"{root.name}.{fmt}"
    assert main(["inspect", str(root), "--canary", canary, "--format", fmt, "--output", str(out)]) == 1
    text = out.read_bytes().decode("utf-8")  # valid UTF-8 whatever the name was
    shown = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", name.decode("utf-8", "backslashreplace"))
    if fmt == "json":
        assert json.loads(text)["findings"][0]["file"] == shown
    elif fmt == "sarif":
        assert json.loads(text)["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
            "artifactLocation"]["uri"] == shown
    else:
        assert shown in text


def test_a_non_utf8_name_on_standard_output(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"caf\xe9-\xff.bin")).write_bytes(b"stdout-canary-x")
    done = _cli([str(tmp_path), "--canary", "stdout-canary-x"])
    assert done.returncode == 1 and "caf\\xe9-\\xff.bin" in done.stdout, done.stderr


def test_non_utf8_canaries_from_a_file_and_the_command_line_are_searched_as_bytes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    from_file, from_argv = b"file-canary-\xff\xfe-bytes", b"argv-canary-\xc3\x28-bytes"
    (data / "blob.bin").write_bytes(b"..." + from_file + b"..." + from_argv.hex().encode())
    listing = tmp_path / "canaries.txt"
    listing.write_bytes(b"plain-canary-text\n" + from_file + b"\r\n")
    out = tmp_path / "r.json"
    code = main(["inspect", str(data), "--canary-file", str(listing), "--canary", os.fsdecode(from_argv),
                 "--format", "json", "--output", str(out)])
    report = json.loads(out.read_text(encoding="utf-8"))
    assert code == 1
    assert {f["found"] for f in report["findings"]} == {"canary:file-canary-\\xff\\xfe-bytes",
                                                       "canary:argv-canary-\\xc3(-bytes"}


def test_a_regular_file_given_as_the_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    _one_line_exit_2(_cli([str(tmp_path / "f"), "--canary", "abcdefgh"]))


def test_special_files_in_the_tree_and_as_option_files_never_block(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.mkfifo(data / "fifo")
    (data / "real.bin").write_bytes(b"fifo-canary-x")
    done = _cli([str(data), "--canary", "fifo-canary-x"])
    assert done.returncode == 1 and "SKIP   fifo" in done.stdout
    os.mkfifo(tmp_path / "canaries.fifo")
    _one_line_exit_2(_cli([str(data), "--canary-file", str(tmp_path / "canaries.fifo")]))
    _one_line_exit_2(_cli([str(data), "--vector-canary", str(tmp_path / "canaries.fifo")]))
    _one_line_exit_2(_cli([str(data), "--canary-file", "/dev/zero"]))
    _one_line_exit_2(_cli([str(data), "--canary-file", str(data)]))  # a directory


def test_an_unreadable_file_makes_the_scan_incomplete(tmp_path: Path) -> None:
    (tmp_path / "locked.bin").write_bytes(b"x")
    (tmp_path / "locked.bin").chmod(0)
    (tmp_path / "open.bin").write_bytes(b"y" * 10)
    (tmp_path / "open.bin").chmod(0o644)
    done = _cli([str(tmp_path), "--canary", "abcdefgh"], preexec_fn=without_read_through())
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "locked.bin" in done.stdout + done.stderr


def test_report_write_failures_are_one_line_and_leave_nothing_behind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.bin").write_bytes(os.urandom(2000))
    (tmp_path / "not-a-dir").write_text("x")
    _one_line_exit_2(_cli([str(data), "--canary", "abcdefgh", "--output", str(tmp_path / "not-a-dir" / "r.txt")]))
    _one_line_exit_2(_cli([str(data), "--canary", "abcdefgh", "--output", str(data)]))  # a directory in the way
    with open("/dev/full", "w") as full:
        _one_line_exit_2(_cli([str(data), "--canary", "abcdefgh"], stdout=full))
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

    done = _cli([str(data), "--canary", "abcdefgh", "--format", "json", "--output", str(out_dir / "r.json")],
                preexec_fn=small_files)
    _one_line_exit_2(done)
    assert "File too large" in done.stderr and "verdict was clean" in done.stderr
    assert list(out_dir.iterdir()) == [], "a partial report was left behind"


@pytest.mark.parametrize("content", [
    "[" * 100_000 + "]" * 100_000,  # deep nesting
    "[[" + "9" * 50_000 + ", 1, 2, 3]]",  # an integer no float can hold
    "[[1e999, 1, 2, 3]]",  # overflows to infinity
    "[[NaN, 1, 2, 3]]",
    '[[1, 2, 3, 4]] {"trailing": true}',
])
def test_hostile_vector_canary_json(tmp_path: Path, content: str) -> None:
    (tmp_path / "v.json").write_text(content)
    (tmp_path / "a.bin").write_bytes(b"x" * 10)
    _one_line_exit_2(_cli([str(tmp_path), "--vector-canary", str(tmp_path / "v.json")]))


def test_a_report_written_into_the_directory_is_not_inspected_on_the_next_run(tmp_path: Path) -> None:
    canary = f"report-canary-{secrets.token_hex(4)}"
    (tmp_path / "data.bin").write_bytes(os.urandom(5000))
    for fmt in ("json", "sarif", "text"):
        out = tmp_path / f"report.{fmt}"
        args = ["inspect", str(tmp_path), "--canary", canary, "--format", fmt, "--output", str(out)]
        assert main(args) == 0
        assert main(args) == 0, f"the {fmt} report of the first run was inspected by the second"
        out.unlink()


def test_skipping_own_reports_cannot_hide_a_canary(tmp_path: Path) -> None:
    canary = f"hidden-canary-{secrets.token_hex(4)}"
    (tmp_path / "data.bin").write_bytes(os.urandom(5000))
    out = tmp_path / "report.json"
    args = ["inspect", str(tmp_path), "--canary", canary, "--format", "json", "--output", str(out)]
    assert main(args) == 0
    (tmp_path / "copy.json").write_bytes(out.read_bytes())  # the same report at another path: inspected
    assert main(args) == 1
    (tmp_path / "copy.json").unlink()
    edited = out.read_text().replace('"observations": [', f'"observations": ["{canary}",', 1)
    out.write_text(edited)  # an edited report at the output path: its digest no longer verifies
    assert main(args) == 1


@pytest.mark.parametrize("needles", [
    {"vectors": [[10**400, 1.0, 2.0, 3.0]]},  # no float holds it
    {"canaries": ["\ud800-lone-surrogate"]},  # stands for no byte
])
def test_hostile_needles_are_typed_errors(tmp_path: Path, needles: dict[str, object]) -> None:
    from aico_secure.inspector import BadNeedle, inspect_tree

    (tmp_path / "a.bin").write_bytes(b"x")
    with pytest.raises(BadNeedle):
        inspect_tree(tmp_path, **needles)  # type: ignore[arg-type]
