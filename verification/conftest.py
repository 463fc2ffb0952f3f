"""Verification-test plumbing: Wycheproof vectors consumed by a decorator, kept apart from the code.

``@wycheproof_vectors("aes_gcm_test.json", type="AeadTest", keySize=256)`` parametrizes a test's ``vector``
argument with every matching test case (each case carries its group's parameters under ``group``). The folder
is the vendored ``vectors/wycheproof`` unless ``--wycheproof-root`` / ``AICO_WYCHEPROOF_ROOT`` names another.

A vector file that is missing, unreadable or matches no group must not turn into a green run or a collection
crash that hides every other test: it becomes one parameter that *fails* with the reason, so the report shows
exactly which crypto check could not be made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wycheproof(file, **group_filters): parametrize `vector` from Wycheproof")


@dataclass(frozen=True)
class VectorsUnavailable:
    """Stands in for the cases of a vector file that could not be used, and says why."""

    reason: str


def _load_cases(root: Path, filename: str, filters: dict[str, Any]) -> list[Any]:
    path = root / filename
    try:
        data = json.loads(path.read_bytes())
        groups = data["testGroups"]
    except FileNotFoundError:
        return [pytest.param(VectorsUnavailable(f"Wycheproof file {path} not found; pass --wycheproof-root or "
                                                "set AICO_WYCHEPROOF_ROOT"), id="vectors-missing")]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [pytest.param(VectorsUnavailable(f"Wycheproof file {path} unreadable: {type(exc).__name__}: {exc}"),
                             id="vectors-unreadable")]
    cases = []
    for group in groups:
        if any(group.get(k) != v for k, v in filters.items()):
            continue
        params = {k: v for k, v in group.items() if k != "tests"}
        for case in group["tests"]:
            cases.append(pytest.param({**case, "group": params}, id=f"tc{case['tcId']}"))
    if not cases:
        return [pytest.param(VectorsUnavailable(f"{path}: no Wycheproof group matches {filters}"),
                             id="vectors-unmatched")]
    return cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("wycheproof")
    if marker is None:
        return
    root = Path(metafunc.config.getoption("wycheproof_root"))
    metafunc.parametrize("vector", _load_cases(root, marker.args[0], dict(marker.kwargs)), indirect=True)


@pytest.fixture
def vector(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One Wycheproof case; a file that could not be used fails here, visibly, instead of skipping."""
    case = request.param
    if isinstance(case, VectorsUnavailable):
        pytest.fail(case.reason, pytrace=False)
    assert isinstance(case, dict)
    return case


def wycheproof_vectors(filename: str, **group_filters: Any) -> pytest.MarkDecorator:
    return pytest.mark.wycheproof(filename, **group_filters)
