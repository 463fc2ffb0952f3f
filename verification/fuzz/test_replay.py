"""Every stored fuzzing input replays through its harness under the harness's contract, as ordinary tests with
no libFuzzer: a fixed bug whose input is kept in ``fuzz/regressions/`` cannot come back, and a corpus that a
format change made stale is noticed."""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.fuzz import files, registry, replay

NAMES = registry.names()


def test_every_surface_has_a_harness() -> None:
    assert len(NAMES) >= 2, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_builds_own_writes_pass(name: str) -> None:
    harness = registry.load(name)
    harness.setup()
    try:
        seeds = list(harness.seeds())
        assert seeds, f"harness {name} has no seeds from the reference build"
        for _label, data in seeds:
            harness.check(data)  # a valid write must be read back without a finding
    finally:
        harness.teardown()


@pytest.mark.parametrize("name", NAMES)
def test_every_corpus_and_regression_input_replays(name: str) -> None:
    stored = list(replay.inputs([files.corpus_dir(name), files.regressions_dir(name)]))
    assert stored, f"no stored inputs for {name}: fuzz/corpus/{name}/ is empty or missing"
    failures = replay.replay(registry.load(name), stored)
    assert not failures, "\n".join(map(str, failures[:20]))


@pytest.mark.parametrize("name", NAMES)
def test_the_checked_in_dictionary_is_the_harness_own(name: str) -> None:
    harness = registry.load(name)
    path = files.dict_path(name)
    if not harness.dictionary:
        assert not path.exists(), f"{path} exists but the harness declares no dictionary"
        return
    assert path.read_text(encoding="utf-8") == files.dictionary_text(harness.dictionary), (
        f"{path} differs from {name}'s dictionary: regenerate it")


def test_a_hanging_input_fails_replay(tmp_path: Path) -> None:
    from aico_secure.fuzz.interface import Harness

    class Hangs(Harness):
        name, surface, refusals, timeout_s = "hangs", "test", (ValueError,), 1

        def run(self, data: bytes) -> None:
            while data:
                pass

    (tmp_path / "input").write_bytes(b"x")
    [failure] = replay.replay(Hangs(), [tmp_path / "input"])
    assert "InputHang" in failure.error


def test_an_undocumented_exception_fails_replay(tmp_path: Path) -> None:
    from aico_secure.fuzz.interface import Harness

    class Leaks(Harness):
        name, surface, refusals = "leaks", "test", (ValueError,)

        def run(self, data: bytes) -> None:
            if data == b"bad":
                raise KeyError("undocumented")
            raise ValueError("documented")

    (tmp_path / "ok").write_bytes(b"fine")
    (tmp_path / "bad").write_bytes(b"bad")
    failures = replay.replay(Leaks(), sorted(tmp_path.iterdir()))
    assert [f.path.name for f in failures] == ["bad"] and "KeyError" in failures[0].error
