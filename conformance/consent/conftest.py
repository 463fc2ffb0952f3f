"""Fixtures of the consent area: the build's consent capability, an injectable clock, a collecting audit sink,
and an open consent service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aico_secure.conform.fakes import CollectingSink as Collector
from aico_secure.conform.fakes import ManualClock as Clock
from aico_secure.conform.fakes import weekday_afternoon
from aico_secure.conform.fixtures import capability_fixture
from aico_secure.target import KeySession
from aico_secure.target.consent import Actor, ConsentCapability, ConsentService

USER = Actor("user-1", "user_data")
PLUGIN = Actor("plugin.weather", "plugin")
OTHER_PLUGIN = Actor("plugin.notes", "plugin")
SYSTEM = Actor("core.memory", "system")




consent = capability_fixture("consent", ConsentCapability)


@pytest.fixture
def clock() -> Clock:
    return weekday_afternoon()


@pytest.fixture
def sink() -> Collector:
    return Collector()


@pytest.fixture
def open_service(consent: ConsentCapability, key_session: KeySession, tmp_path: Path, clock: Clock,
                 sink: Collector) -> Iterator[Callable[[], ConsentService]]:
    """``open_service()``: (re)open the consent store in one directory; every service is closed at the end."""
    opened: list[ConsentService] = []

    def make() -> ConsentService:
        service = consent.open(key_session, tmp_path / "consent", audit=sink, clock=clock)
        opened.append(service)
        return service

    yield make
    for service in opened:
        service.close()


@pytest.fixture
def service(open_service: Callable[[], ConsentService]) -> ConsentService:
    return open_service()


@pytest.fixture
def user_category(service: ConsentService) -> str:
    names = sorted(c for c, level in service.categories().items() if level == "user_data")
    assert names, "the build declares no user_data category"
    return names[0]


@pytest.fixture
def second_user_category(service: ConsentService) -> str:
    names = sorted(c for c, level in service.categories().items() if level == "user_data")
    assert len(names) >= 2, "the build declares fewer than two user_data categories"
    return names[1]


@pytest.fixture
def system_category(service: ConsentService) -> str:
    names = sorted(c for c, level in service.categories().items() if level == "system")
    assert names, "the build declares no system category"
    return names[0]
