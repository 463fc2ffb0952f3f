"""Where the conformance suite's files are, in a checkout or in an installed wheel.

The suite lives in the top-level ``conformance/`` folder of the source tree. The wheel carries that folder as
``aico_secure/_suite`` (see ``[tool.hatch.build.targets.wheel.force-include]``), so an installed package can
run the suite with no checkout at all.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def suite_dir() -> Path:
    installed = _PACKAGE / "_suite"
    if (installed / "requirements.yaml").is_file():
        return installed
    checkout = _PACKAGE.parent / "conformance"
    if (checkout / "requirements.yaml").is_file():
        return checkout
    raise FileNotFoundError("the conformance suite is missing from this installation (no requirements.yaml)")


def catalog_path() -> Path:
    return suite_dir() / "requirements.yaml"


def catalog_schema_path() -> Path:
    return suite_dir() / "requirements.schema.json"


def controls_dir() -> Path:
    return suite_dir() / "controls"


def example_controls_dir() -> Path | None:
    """Controls built on the outside examples (``docs/examples/example_controls``): only a checkout has the
    examples they are built on, so an installed suite has none and measures its power on the shipped zoo."""
    examples = _PACKAGE.parent / "docs" / "examples"
    found = examples / "example_controls"
    return found if (found / "__init__.py").is_file() and (examples / "jwt_gateway").is_dir() else None
