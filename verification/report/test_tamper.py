"""A signed report stops verifying when any class of field changes: what was judged, how, on what, and what
was accepted. Each case edits one field of a real report and keeps the document valid, so it is the signature
(not the schema) that refuses it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from aico_secure.report import document, signing
from verification.report.samples import mixed_report

Edit = Callable[[dict[str, Any]], None]


def _set(path: tuple[str | int, ...], value: Any) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return edit


def _delete(path: tuple[str | int, ...]) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return edit


EDITS: dict[str, Edit] = {
    "overall verdict": _set(("verdict",), "pass"),
    "requirement outcome": _set(("requirements", 1, "outcome"), "pass"),
    "requirement removed": _delete(("requirements", 2)),
    "requirement severity": _set(("requirements", 0, "severity"), "low"),
    "test outcome": _set(("requirements", 1, "tests", 0, "outcome"), "pass"),
    "test removed": _delete(("requirements", 1, "tests", 1)),
    "test message": _set(("requirements", 1, "tests", 0, "message"), ""),
    "test evidence": _set(("requirements", 0, "tests", 0, "evidence", "files scanned"), "300"),
    "test duration": _set(("requirements", 0, "tests", 0, "duration_s"), 0.0001),
    "totals": _set(("totals", "fail"), 0),
    "finding removed": _delete(("findings", 0)),
    "finding severity": _set(("findings", 1, "severity"), "low"),
    "finding place": _set(("findings", 0, "line"), 99),
    "waiver expiry": _set(("waivers", 1, "waiver", "expires"), "2099-01-31"),
    "waiver status": _set(("waivers", 1, "status"), "applied"),
    "waiver approver": _set(("waivers", 0, "waiver", "approver"), "nobody"),
    "provenance library": _set(("provenance", "libraries", "cryptography"), "0.0.1"),
    "provenance catalog digest": _set(("provenance", "catalog_digest"), "sha256:" + "0" * 64),
    "provenance suite digest": _set(("provenance", "suite_digest"), "sha256:" + "1" * 64),
    "provenance seed": _set(("provenance", "hypothesis_seed"), "7"),
    "provenance time": _set(("provenance", "finished_at"), "2026-12-01T00:00:00+00:00"),
    "target version": _set(("target", "version"), "9.9.9"),
    "source completeness": _set(("sources", 1, "complete"), False),
    "note removed": _delete(("notes", 0)),
}


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, Path, bytes]:
    key = Ed25519PrivateKey.generate()
    report = tmp_path / "report.json"
    report.write_text(document.dump(mixed_report()))
    sig = tmp_path / "report.json.sig"
    sig.write_text(json.dumps(signing.sign(report, key)))
    return report, sig, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_the_untouched_report_verifies(signed: tuple[Path, Path, bytes]) -> None:
    report, sig, public = signed
    assert signing.verify(report, sig, public).intact


@pytest.mark.parametrize("field_class", sorted(EDITS))
def test_any_changed_field_fails_verification(signed: tuple[Path, Path, bytes], field_class: str) -> None:
    report, sig, public = signed
    doc = json.loads(report.read_text())
    before = json.dumps(doc, sort_keys=True)
    EDITS[field_class](doc)
    assert json.dumps(doc, sort_keys=True) != before, "the edit changed nothing"
    document.validate(doc)  # still a well-formed report: it is the signature that refuses it
    report.write_text(json.dumps(doc, indent=2))
    verdict = signing.verify(report, sig, public)
    assert not verdict.intact, f"a report with a changed {field_class} still verified"
