"""Every harness of the registry survives a short libFuzzer run from its stored corpus under the flags a campaign
passes (its own -timeout/-rss_limit_mb/-max_len, its dictionary): harnesses cannot rot unnoticed. Campaigns are
always bounded, and one whose harness ignores its bound is killed and reported.

The corpus is copied first: a test run must not grow the checked-in corpus (campaigns do that on purpose)."""

from __future__ import annotations

import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aico_secure.fuzz import campaign, files, registry
from aico_secure.fuzz.campaign import Campaign, FuzzError

NAMES = registry.names()


def test_there_are_harnesses() -> None:
    assert {"envelope", "keyring"} <= set(NAMES)


PARALLEL = 2  # campaigns at once: each spends most of its time instrumenting, on one core


def _short_campaign(name: str, scratch: Path) -> campaign.CampaignResult:
    corpus = scratch / name / "corpus"
    stored = files.corpus_dir(name)
    if stored.is_dir():
        shutil.copytree(stored, corpus)
    else:
        campaign.seed_folder(name, corpus)
    assert any(corpus.iterdir()), f"no corpus to start {name} from"
    return campaign.run(Campaign(name, runs=300, corpus=corpus, echo=False))


@pytest.fixture(scope="module")
def short_campaigns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, campaign.CampaignResult]:
    """Every harness's short campaign, run two at a time; each test below judges one."""
    scratch = tmp_path_factory.mktemp("campaigns")
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = {name: pool.submit(_short_campaign, name, scratch) for name in NAMES}
    return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", NAMES)
def test_harness_finds_nothing_in_a_short_campaign(short_campaigns: dict[str, campaign.CampaignResult],
                                                   name: str) -> None:
    result = short_campaigns[name]
    assert result.code == 0, "\n".join(result.tail[-30:])
    assert result.stats is not None and result.stats.executed_units >= 300


def test_a_campaign_is_always_bounded(tmp_path: Path) -> None:
    """libFuzzer reads -runs=-1 and -max_total_time=0 as "forever": neither may reach it, and no bound at all
    gets the default time bound."""
    cmd, _corpus, _artifacts = campaign.command(Campaign("envelope", corpus=tmp_path / "c"), tmp_path)
    assert f"-max_total_time={campaign.DEFAULT_MAX_TIME}" in cmd
    assert not any(flag.startswith("-runs=") for flag in cmd)
    for bad in (Campaign("envelope", runs=-1), Campaign("envelope", max_time=0)):
        with pytest.raises(FuzzError):
            campaign.command(bad, tmp_path)


def test_the_engine_passes_the_harness_bounds_and_dictionary(tmp_path: Path) -> None:
    harness = registry.load("keyring")
    cmd, _corpus, artifacts = campaign.command(Campaign("keyring", runs=5, corpus=tmp_path / "c"), tmp_path)
    assert cmd[:4] == [sys.executable, "-m", campaign.ENTRY_MODULE, "keyring"]
    assert {f"-timeout={harness.timeout_s}", f"-rss_limit_mb={harness.rss_limit_mb}",
            f"-max_len={harness.max_len}", f"-artifact_prefix={artifacts}/", "-print_final_stats=1",
            "-runs=5"} <= set(cmd)
    assert any(flag.startswith("-dict=") for flag in cmd) and cmd[-1] == str(tmp_path / "c")


@pytest.mark.parametrize("flag", ["-runs=-1", "-max_total_time=0", "-artifact_prefix=/tmp/x/", "not-a-flag"])
def test_passthrough_cannot_unbound_a_campaign(flag: str, tmp_path: Path) -> None:
    with pytest.raises(FuzzError):
        campaign.command(Campaign("envelope", runs=5, libfuzzer_args=(flag,)), tmp_path)


def test_a_harness_that_ignores_its_time_bound_is_killed_and_reported(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hangs_entry.py").write_text("import time\nwhile True:\n    time.sleep(60)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(campaign, "ENTRY_MODULE", "hangs_entry")
    monkeypatch.setattr(campaign, "HANG_GRACE", 1)
    started = time.monotonic()
    result = campaign.run(Campaign("envelope", max_time=1, corpus=tmp_path / "c", echo=False))
    assert result.killed and result.found and result.code == 1
    assert time.monotonic() - started < 30
