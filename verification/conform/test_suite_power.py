"""The suite's power: every negative control in conformance/controls/ is caught on every requirement it breaks,
and every area of the catalog has at least one control. Runs ``aico-secure conform --controls``' own code."""

from __future__ import annotations

from aico_secure.conform import controls
from aico_secure.conform.catalog import load_catalog


def test_every_control_names_known_requirements() -> None:
    catalog = load_catalog()
    for control in controls.discover():
        unknown = [r for r in control.breaks if catalog.get(r) is None]
        assert not unknown, f"{control.name} breaks unknown requirements {unknown}"


def test_every_area_has_a_control() -> None:
    catalog = load_catalog()
    broken_areas = {catalog.get(r).area for c in controls.discover() for r in c.breaks}  # type: ignore[union-attr]
    assert {r.area for r in catalog.requirements} <= broken_areas


def test_suite_power_is_100_percent() -> None:
    results = controls.run_all(controls.discover(), workers=2)
    table, power = controls.power_table(results)
    print(table)
    assert power == 1.0, table
