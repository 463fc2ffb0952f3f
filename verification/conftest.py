"""Verification-test plumbing: Wycheproof vectors consumed by a marker, read from outside the tree.

``@wycheproof_vectors("aes_gcm_test.json", type="AeadTest", keySize=256)`` parametrizes a test's ``vector``
argument with every matching test case (each case carries its group's parameters under ``group``). The
folder comes from ``--wycheproof-root`` / ``AICO_WYCHEPROOF_ROOT``; a missing folder is an error, not a skip:
a crypto test that checked no vector must not look green.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wycheproof(file, **group_filters): parametrize `vector` from Wycheproof")


def _load_cases(root: Path, filename: str, filters: dict[str, Any]) -> list[Any]:
    path = root / filename
    if not path.is_file():
        return [pytest.param(None, id="vectors-missing",
                             marks=pytest.mark.usefixtures("_wycheproof_missing"))]
    data = json.loads(path.read_text())
    cases = []
    for group in data["testGroups"]:
        if any(group.get(k) != v for k, v in filters.items()):
            continue
        params = {k: v for k, v in group.items() if k != "tests"}
        for case in group["tests"]:
            cases.append(pytest.param({**case, "group": params}, id=f"tc{case['tcId']}"))
    if not cases:
        raise pytest.UsageError(f"{filename}: no Wycheproof group matches {filters}")
    return cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("wycheproof")
    if marker is None:
        return
    root = Path(metafunc.config.getoption("wycheproof_root"))
    metafunc.parametrize("vector", _load_cases(root, marker.args[0], dict(marker.kwargs)))


@pytest.fixture
def _wycheproof_missing(request: pytest.FixtureRequest) -> None:
    root = request.config.getoption("wycheproof_root")
    pytest.fail(f"Wycheproof vectors not found under {root}; pass --wycheproof-root or set AICO_WYCHEPROOF_ROOT",
                pytrace=False)


def wycheproof_vectors(filename: str, **group_filters: Any) -> pytest.MarkDecorator:
    return pytest.mark.wycheproof(filename, **group_filters)
