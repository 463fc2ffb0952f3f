"""Every Atheris harness runs a few thousand inputs without a finding: harnesses cannot rot unnoticed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aico_secure import fuzzing

HARNESSES = sorted(fuzzing.harnesses())


def test_there_are_harnesses() -> None:
    assert {"envelope", "keyring"} <= set(HARNESSES)


@pytest.mark.parametrize("name", HARNESSES)
def test_harness_finds_nothing_in_a_short_campaign(name: str) -> None:
    assert fuzzing.run(fuzzing.Campaign(name, runs=5000)) == 0


def test_a_campaign_is_always_bounded() -> None:
    """libFuzzer reads -runs=-1 and -max_total_time=0 as "forever": neither may reach it, and no bound at all
    gets the default time bound."""
    assert f"-max_total_time={fuzzing.DEFAULT_MAX_TIME}" in fuzzing.command(fuzzing.Campaign("envelope"))
    for bad in (fuzzing.Campaign("envelope", runs=-1), fuzzing.Campaign("envelope", max_time=0)):
        with pytest.raises(fuzzing.FuzzError):
            fuzzing.command(bad)


def test_a_harness_that_ignores_its_time_bound_is_killed_and_reported(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fuzz_hang.py").write_text("import time\nwhile True:\n    time.sleep(60)\n")
    monkeypatch.setattr(fuzzing, "FUZZ_DIR", tmp_path)
    monkeypatch.setattr(fuzzing, "HANG_GRACE", 1)
    started = time.monotonic()
    assert fuzzing.run(fuzzing.Campaign("hang", max_time=1)) == 1
    assert time.monotonic() - started < 30
