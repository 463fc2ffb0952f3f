"""A signed report verifies only while it says what was signed, and only with the signer's key.

Run through the CLI as an auditor would: ``report keygen``, ``report sign``, ``report verify`` (exit 0 intact,
1 tampered or another key, 2 unreadable), on a report shaped like the conformance reports."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPORT: dict[str, Any] = {
    "verdict": "pass",
    "target": {"name": "aico-secure reference", "version": "0.1.0"},
    "requirements": [
        {"id": "AICO-KM-001", "outcome": "pass", "tests": [{"nodeid": "keys/test_km_kdf.py::t", "outcome": "pass"}]},
        {"id": "AICO-KM-002", "outcome": "pass", "tests": [{"nodeid": "keys/test_km_unlock.py::t", "outcome": "pass"}]},
        {"id": "AICO-GW-001", "outcome": "pass", "tests": []},
    ],
}


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "report", *map(str, args)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, Path]:
    """(report, public key) with REPORT.sig next to the report."""
    key, pub = tmp_path / "signer.pem", tmp_path / "signer.pub.pem"
    assert _cli("keygen", "--private", key, "--public", pub).returncode == 0
    assert key.stat().st_mode & 0o077 == 0, "the private key was created readable by others"
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT, indent=2))
    proc = _cli("sign", report, "--key", key)
    assert proc.returncode == 0, proc.stderr
    return report, pub


def test_an_untouched_report_verifies(signed: tuple[Path, Path]) -> None:
    report, pub = signed
    proc = _cli("verify", report, "--pubkey", pub)
    assert proc.returncode == 0 and proc.stdout.startswith("intact"), proc.stdout + proc.stderr


def test_reformatting_keeps_the_signature(signed: tuple[Path, Path]) -> None:
    report, pub = signed
    report.write_text(json.dumps(json.loads(report.read_text()), separators=(",", ":"), sort_keys=True))
    assert _cli("verify", report, "--pubkey", pub).returncode == 0


def _swap_verdict(doc: dict[str, Any]) -> None:
    doc["requirements"][1]["outcome"] = "fail"


def _drop_requirement(doc: dict[str, Any]) -> None:
    del doc["requirements"][2]


def _change_a_character(doc: dict[str, Any]) -> None:
    doc["target"]["version"] = "0.1.1"


@pytest.mark.parametrize("tamper", [_swap_verdict, _drop_requirement, _change_a_character],
                         ids=["swapped-verdict", "removed-requirement", "changed-value"])
def test_a_changed_report_fails(signed: tuple[Path, Path], tamper: Callable[[dict[str, Any]], None]) -> None:
    report, pub = signed
    doc = json.loads(report.read_text())
    tamper(doc)
    report.write_text(json.dumps(doc, indent=2))
    proc = _cli("verify", report, "--pubkey", pub)
    assert proc.returncode == 1 and "NOT INTACT" in proc.stdout, proc.stdout + proc.stderr


def test_a_forged_digest_in_the_signature_file_still_fails(signed: tuple[Path, Path]) -> None:
    """Editing the signature file's digest to match a changed report leaves the signature itself to refuse it."""
    import hashlib

    import rfc8785

    report, pub = signed
    doc = json.loads(report.read_text())
    _swap_verdict(doc)
    report.write_text(json.dumps(doc))
    sig_path = report.with_name(report.name + ".sig")
    sig = json.loads(sig_path.read_text())
    sig["sha256"] = hashlib.sha256(rfc8785.dumps(doc)).hexdigest()
    sig_path.write_text(json.dumps(sig))
    assert _cli("verify", report, "--pubkey", pub).returncode == 1


def test_another_key_fails(signed: tuple[Path, Path], tmp_path: Path) -> None:
    report, _pub = signed
    other = tmp_path / "other.pub.pem"
    assert _cli("keygen", "--private", tmp_path / "other.pem", "--public", other).returncode == 0
    proc = _cli("verify", report, "--pubkey", other)
    assert proc.returncode == 1 and "not by the given key" in proc.stdout


@pytest.mark.parametrize("damage", ["missing-report", "not-json", "bad-signature-file", "missing-key"])
def test_unreadable_input_is_exit_2_in_one_line(signed: tuple[Path, Path], tmp_path: Path, damage: str) -> None:
    report, pub = signed
    if damage == "missing-report":
        report.unlink()
    elif damage == "not-json":
        report.write_text("{not json")
    elif damage == "bad-signature-file":
        report.with_name(report.name + ".sig").write_text("[]")
    else:
        pub = tmp_path / "absent.pem"
    proc = _cli("verify", report, "--pubkey", pub)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_a_signing_key_others_can_read_is_refused(tmp_path: Path) -> None:
    key, pub = tmp_path / "k.pem", tmp_path / "k.pub.pem"
    assert _cli("keygen", "--private", key, "--public", pub).returncode == 0
    key.chmod(0o644)
    report = tmp_path / "r.json"
    report.write_text(json.dumps(REPORT))
    proc = _cli("sign", report, "--key", key)
    assert proc.returncode == 2 and "readable by others" in proc.stderr
    assert not report.with_name("r.json.sig").exists()


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    key.write_text("precious")
    proc = _cli("keygen", "--private", key, "--public", tmp_path / "k.pub.pem")
    assert proc.returncode == 2 and key.read_text() == "precious"


def test_an_incomplete_action_is_a_one_line_usage_error() -> None:
    proc = _cli("merge", "a.json")
    assert proc.returncode == 2 and "--output" in proc.stderr and proc.stderr.count("\n") == 1
