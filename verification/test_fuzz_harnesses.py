"""Every Atheris harness runs a few thousand inputs without a finding: harnesses cannot rot unnoticed."""

from __future__ import annotations

import pytest

from aico_secure import fuzzing

HARNESSES = sorted(fuzzing.harnesses())


def test_there_are_harnesses() -> None:
    assert {"envelope", "keyring"} <= set(HARNESSES)


@pytest.mark.parametrize("name", HARNESSES)
def test_harness_finds_nothing_in_a_short_campaign(name: str) -> None:
    assert fuzzing.run(fuzzing.Campaign(name, runs=5000)) == 0


def test_campaign_must_be_bounded() -> None:
    with pytest.raises(fuzzing.FuzzError):
        fuzzing.command(fuzzing.Campaign("envelope"))
