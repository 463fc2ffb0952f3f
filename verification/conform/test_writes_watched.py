"""The suite's write watch (``aico_secure.conform.writes``): a secret a build writes to ``$HOME``, ``$TMPDIR`` or
a ``tempfile`` file is found, a write outside every watched directory is reported, and a build that does so
fails the right requirement in a real conformance run."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aico_secure.conform import writes

from .conftest import latest_report, run_cli

SECRET = bytes(range(7, 39))


@pytest.fixture
def redirected() -> Iterator[writes.Redirection]:
    before = {n: os.environ.get(n) for n in ("HOME", "TMPDIR", *writes.XDG_NAMES)}
    tempdir_before = tempfile.tempdir
    redirection = writes.redirect_environment()
    try:
        yield redirection
    finally:
        redirection.restore()
        assert {n: os.environ.get(n) for n in before} == before, "the environment was not restored"
        assert tempfile.tempdir == tempdir_before
        assert not redirection.root.exists(), "the suite's directories were left behind"


def test_environment_points_at_private_suite_directories(redirected: writes.Redirection) -> None:
    assert Path.home() == redirected.dirs["HOME"]
    assert tempfile.gettempdir() == str(redirected.dirs["TMPDIR"])
    for name in writes.XDG_NAMES:
        assert os.environ[name] == str(redirected.dirs[name])
    assert all(path.stat().st_mode & 0o077 == 0 for path in redirected.roots)


def _write_everywhere(given: Path, redirection: writes.Redirection) -> tuple[Path, Path]:
    """Secrets written the ways builds do: a per-user cache file, a kept temp file, a low-level mkstemp file, a
    file written and removed, one in the given directory. Returns a path outside every watched place and the
    mkstemp file (written through a descriptor only: no ``open`` of its path ever happens)."""
    cache = Path.home() / ".cache" / "app" / "session.json"
    cache.parent.mkdir(parents=True)
    cache.write_text('{"master": "' + SECRET.hex() + '"}')
    with tempfile.NamedTemporaryFile(delete=False, suffix=".dek") as handle:
        handle.write(SECRET)
    fd, name = tempfile.mkstemp()
    os.write(fd, b"k=" + SECRET)
    os.close(fd)
    native = Path(os.environ["XDG_CONFIG_HOME"]) / "native.conf"  # another process: no audit hook sees it
    subprocess.run(["sh", "-c", f'printf "key={SECRET.hex()}" > "{native}"'], check=True)
    gone = Path(os.environ["XDG_STATE_HOME"]) / "history"
    gone.write_bytes(SECRET)
    gone.unlink()
    given.mkdir()
    (given / "fine.bin").write_bytes(b"nothing secret here")
    outside = redirection.root / "stray.txt"  # the suite's, but none of the directories a build may use
    outside.write_text("written where nobody looks")
    return outside, Path(name)


def test_secrets_written_to_home_tmpdir_and_tempfile_are_found(redirected: writes.Redirection,
                                                               tmp_path: Path) -> None:
    given = tmp_path / "given"
    with writes.watch_writes(given) as watch:
        outside, low_level = _write_everywhere(given, redirected)
    try:
        assert not watch.errors
        places = {w.where for w in watch.written()}
        assert places == {"given", "suite", "outside"}
        scan = writes.scan_written(watch, secrets={"master": SECRET})
        hit_paths = {line.split(" (")[0] for line in scan.findings()}
        assert str(Path.home() / ".cache" / "app" / "session.json") in hit_paths
        assert any(p.endswith(".dek") and p.startswith(tempfile.gettempdir()) for p in hit_paths)
        assert str(Path(os.environ["XDG_STATE_HOME"]) / "history") in hit_paths, "a removed file was not kept"
        assert any("removed after writing" in line for line in scan.findings())
        assert str(low_level) in hit_paths, "a file written through an mkstemp descriptor was missed"
        assert str(Path(os.environ["XDG_CONFIG_HOME"]) / "native.conf") in hit_paths, "the snapshot missed a " \
            "write no Python hook saw"
        assert outside in watch.outside()
        assert not any(str(given) in p for p in hit_paths)
        assert any("has mode" in p for p in writes.loose_modes(watch)), "a 0644 cache file passed the mode check"
    finally:
        writes.discard(watch)
        outside.unlink(missing_ok=True)


def test_a_nested_redirection_gives_the_outer_one_back(redirected: writes.Redirection) -> None:
    inner = writes.redirect_environment()
    assert writes.current_redirection() is inner and Path.home() == inner.dirs["HOME"]
    assert inner.root.parent == redirected.root.parent, "a nested run must not nest inside the outer's directories"
    inner.restore()
    assert writes.current_redirection() is redirected and Path.home() == redirected.dirs["HOME"]


def test_the_watch_sees_nothing_when_nothing_is_written(redirected: writes.Redirection, tmp_path: Path) -> None:
    (tmp_path / "old").write_bytes(SECRET)
    with writes.watch_writes(tmp_path) as watch:
        (tmp_path / "old").read_bytes()
    assert watch.written() == [] and watch.outside() == []
    writes.discard(watch)


LEAKY_BUILD = """
    import dataclasses, json, os, tempfile
    from pathlib import Path

    from aico_secure.reference import build as reference
    from aico_secure.reference.keys import ReferenceKeys, ReferenceKeySession

    CACHE = Path(os.environ["HOME"]) / ".cache" / "leaky"  # read once, when the build is imported


    class Session(ReferenceKeySession):
        def rotate_data_key(self, purpose):
            super().rotate_data_key(purpose)
            with tempfile.NamedTemporaryFile(delete=False, prefix="rotation-") as handle:
                handle.write(self.keyring.active_data_key(purpose).secret.reveal())


    class Keys(ReferenceKeys):
        def unlock(self, directory, password):
            session = Session(super().unlock(directory, password).keyring)
            cache = CACHE / "session.json"
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps({"master": session.secret_material()["master"].hex()}))
            return session

        def create(self, directory, password, *, fast_kdf):
            return Session(super().create(directory, password, fast_kdf=fast_kdf).keyring)


    def build():
        return dataclasses.replace(reference(), name="leaks to HOME and TMPDIR", keys=Keys())
"""


def test_a_build_leaking_to_home_and_tmpdir_fails_km_003_at_those_points(
        tmp_path: Path, target_module: Callable[[str], str], module_dir: Path) -> None:
    module = target_module(LEAKY_BUILD)
    out = tmp_path / "reports"
    proc = run_cli(tmp_path, "conform", "--target", f"{module}:build", "--report-dir", str(out),
                   "--pytest-args", "--aico-requirements=AICO-KM-003", pythonpath=module_dir)
    report = latest_report(out)
    assert proc.returncode == 1, proc.stdout[-3000:]
    verdict = {r["id"]: r for r in report["requirements"]}["AICO-KM-003"]
    assert verdict["outcome"] == "fail"
    failed = {t["nodeid"].split("::")[-1]: t for t in verdict["tests"] if t["outcome"] == "fail"}
    watched = "test_no_key_or_password_in_any_file_written"
    for point in ("unlock", "close", "restart", "rotate-data-key"):
        assert f"{watched}[{point}]" in failed, sorted(failed)
    # The suite's HOME (".../home"), not the real one: the environment was redirected before the build loaded.
    assert "/home/.cache/leaky/session.json (suite)" in failed[f"{watched}[unlock]"]["message"]
    assert "/tmp/rotation-" in failed[f"{watched}[rotate-data-key]"]["message"]
    assert f"{watched}[create]" not in failed, "create wrote nothing secret but was reported"
