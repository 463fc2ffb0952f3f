"""The Hypothesis profile really reaches the tests, and the example database stays out of the caller's directory.

Each check runs a tiny pytest in a subprocess on a file written into ``tmp_path``: the profile is chosen when
pytest configures, so only a fresh process shows which one a run gets. Two set-ups are checked, the two the
profiles are registered by: a ``conftest.py`` like this checkout's (``activate("dev", ...)``), and a
conformance-like run (an ``aico_target`` and no conftest, as ``aico-secure conform`` runs the shipped suite).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aico_secure.config import cache
from aico_secure.conform import hypothesis_profiles, stateful

COUNTING_TEST = """
    import os
    from hypothesis import given, settings, strategies as st
    from aico_secure.conform.hypothesis_profiles import KDF, budget


    @settings(max_examples=budget(KDF))
    @given(st.binary(min_size=8))
    def test_counted(blob):
        with open(os.environ["COUNT_FILE"], "a") as out:
            out.write("x")
"""
FAILING_TEST = """
    from hypothesis import given, strategies as st


    def test_fails_so_the_database_is_written():
        @given(st.integers())
        def inner(n):
            assert n < 10
        inner()
"""
CHECKOUT_CONFTEST = """
    from aico_secure.config import cache
    from aico_secure.conform import hypothesis_profiles

    hypothesis_profiles.activate("dev", cache.resolve())
"""
CONFORM_INI = "[pytest]\naico_target = aico_secure.reference:build\n"


def run_pytest(folder: Path, *, profile: str | None, extra_env: dict[str, str] | None = None,
               args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in (hypothesis_profiles.ENV, cache.ENV, "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    env["COUNT_FILE"] = str(folder / "count")
    env.setdefault("XDG_CACHE_HOME", str(folder / "xdg"))
    if profile is not None:
        env[hypothesis_profiles.ENV] = profile
    env.update(extra_env or {})
    (folder / "count").write_text("")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def project(tmp_path: Path, test: str, *, conftest: str | None = None, ini: str = "[pytest]\n") -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "pytest.ini").write_text(ini)
    (folder / "test_tiny.py").write_text(textwrap.dedent(test))
    if conftest is not None:
        (folder / "conftest.py").write_text(textwrap.dedent(conftest))
    return folder


def calls(folder: Path, profile: str | None) -> int:
    done = run_pytest(folder, profile=profile)
    assert done.returncode == 0, done.stdout + done.stderr
    return len((folder / "count").read_text())


def test_the_checkout_profile_scales_a_shared_test(tmp_path: Path) -> None:
    folder = project(tmp_path, COUNTING_TEST, conftest=CHECKOUT_CONFTEST)
    dev, nightly = calls(folder, "dev"), calls(folder, "nightly")
    assert dev == round(hypothesis_profiles.EXAMPLES["dev"] * hypothesis_profiles.KDF)
    assert nightly > 10 * dev  # nightly reaches a test that used to hard-code its count
    assert calls(folder, None) == dev  # the checkout defaults to dev


def test_a_conformance_run_gets_the_requested_profile_but_never_less_than_ci(tmp_path: Path) -> None:
    folder = project(tmp_path, COUNTING_TEST, ini=CONFORM_INI)
    gate = round(hypothesis_profiles.EXAMPLES["ci"] * hypothesis_profiles.KDF)
    assert calls(folder, None) == gate
    assert calls(folder, "dev") == gate  # the verdict is a gate: dev does not weaken it
    assert calls(folder, "nightly") > 10 * gate


def test_on_a_ci_runner_the_requested_profile_still_reaches_a_conformance_run(tmp_path: Path) -> None:
    """Hypothesis loads its own "ci" profile by itself when CI is set (as on every hosted runner); that must not
    count as a choice, or nightly and the unknown-profile check would be lost exactly where gates run."""
    folder = project(tmp_path, COUNTING_TEST, ini=CONFORM_INI)
    on_ci = {"CI": "true"}
    gate = round(hypothesis_profiles.EXAMPLES["ci"] * hypothesis_profiles.KDF)
    done = run_pytest(folder, profile="nightly", extra_env=on_ci)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len((folder / "count").read_text()) > 10 * gate
    refused = run_pytest(folder, profile="weekly", extra_env=on_ci)
    assert refused.returncode == 4 and "unknown Hypothesis profile" in refused.stdout + refused.stderr


def test_a_team_run_without_a_target_keeps_its_own_hypothesis_set_up(tmp_path: Path) -> None:
    folder = project(tmp_path, COUNTING_TEST)
    assert calls(folder, "nightly") == round(100 * hypothesis_profiles.KDF)  # Hypothesis's own default: 100


def test_an_unknown_profile_is_a_usage_error(tmp_path: Path) -> None:
    folder = project(tmp_path, COUNTING_TEST, ini=CONFORM_INI)
    done = run_pytest(folder, profile="weekly")
    assert done.returncode == 4 and "unknown Hypothesis profile" in done.stdout + done.stderr


@pytest.mark.parametrize("how", ["environment", "option", "xdg"])
def test_the_example_database_goes_to_the_cache_dir_not_the_cwd(tmp_path: Path, how: str) -> None:
    folder = project(tmp_path, FAILING_TEST, ini=CONFORM_INI)
    chosen = tmp_path / "cache"
    env, args = {}, ()
    if how == "environment":
        env = {cache.ENV: str(chosen)}
    elif how == "option":
        args = ("--aico-cache-dir", str(chosen))
    else:  # the platform default, resolved before the suite redirects XDG_CACHE_HOME for the build
        env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
        chosen = tmp_path / "xdg" / "aico-secure"
    done = run_pytest(folder, profile="dev", extra_env=env, args=args)
    assert done.returncode == 1, done.stdout + done.stderr  # the test failed, so Hypothesis saved its example
    assert not (folder / ".hypothesis").exists()
    saved = [p for p in (chosen / "hypothesis" / "examples").rglob("*") if p.is_file()]
    assert saved, f"nothing written under {chosen}"


def test_the_checkout_conftest_keeps_the_database_out_of_the_cwd_too(tmp_path: Path) -> None:
    folder = project(tmp_path, FAILING_TEST, conftest=CHECKOUT_CONFTEST)
    done = run_pytest(folder, profile="dev", extra_env={cache.ENV: str(tmp_path / "cache")})
    assert done.returncode == 1, done.stdout + done.stderr
    assert not (folder / ".hypothesis").exists()
    assert any((tmp_path / "cache" / "hypothesis" / "examples").rglob("*"))


def test_budget_takes_a_share_and_never_nothing() -> None:
    assert hypothesis_profiles.budget(1.0) >= hypothesis_profiles.budget(hypothesis_profiles.DISK) >= \
        hypothesis_profiles.budget(hypothesis_profiles.KDF) >= 1
    assert hypothesis_profiles.budget(1e-9) == 1
    for bad in (0, -0.5, 1.5):
        with pytest.raises(ValueError):
            hypothesis_profiles.budget(bad)


def test_the_suites_own_tests_never_take_less_than_their_share_of_ci() -> None:
    for share in (hypothesis_profiles.CHEAP, hypothesis_profiles.DISK, hypothesis_profiles.KDF):
        assert hypothesis_profiles.gate_budget(share) >= round(hypothesis_profiles.EXAMPLES["ci"] * share)
        assert hypothesis_profiles.gate_budget(share) >= hypothesis_profiles.budget(share)


def test_stateful_machines_use_the_same_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(hypothesis_profiles.ENV, raising=False)
    assert stateful.machine_settings("quick", 5).max_examples == stateful.EXAMPLES["quick"]
    monkeypatch.setenv(hypothesis_profiles.ENV, "nightly")
    assert stateful.machine_settings("quick", 5).max_examples == hypothesis_profiles.EXAMPLES["nightly"]
