"""Baselines: what an accepted inventory and accepted findings let pass, and every way a change still fails."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from aico_secure.scan import baseline
from aico_secure.scan._scanner.crypto_inventory import CryptoInventoryScanner
from aico_secure.scan._scanner.interface import ScanOptions
from aico_secure.scan.errors import ScanError
from aico_secure.scan.model import ScannerResult, ScanReport

FIXTURES = Path(__file__).parent / "fixtures" / "crypto"
TODAY = dt.date(2026, 6, 1)


def report_of(root: Path) -> ScanReport:
    result = CryptoInventoryScanner().scan(root, ScanOptions())
    return ScanReport(root=root, results=[result])


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "strong", root)
    return root


@pytest.fixture
def accepted_inventory(tmp_path: Path, tree: Path) -> Path:
    return write(tmp_path, baseline.baseline_document(report_of(tree)))


def edit(tree: Path, old: str, new: str) -> None:
    path = tree / "vault.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def regressions(tree: Path, path: Path) -> set[tuple[str, str]]:
    report = baseline.apply(report_of(tree), path, TODAY)
    (result,) = [r for r in report.results if r.scanner == "baseline"]
    assert result.problems == []
    return {(f.rule_id, f.message) for f in result.findings}


def test_unchanged_tree_passes_its_own_baseline(tree: Path, accepted_inventory: Path) -> None:
    report = baseline.apply(report_of(tree), accepted_inventory, TODAY)
    assert report.findings == [] and report.problems == [] and report.exit_code == 0


@pytest.mark.parametrize(
    ("old", "new", "rule", "says"),
    [
        ("bit_length=256", "bit_length=128", "AICO-C392", "AES-128-GCM is weaker than the baseline's"),
        ("MEMORY_KIB = 64 * 1024", "MEMORY_KIB = 32 * 1024", "AICO-C392", "Argon2id is weaker"),
        ("hashlib.sha256).digest()", "hashlib.sha1).digest()", "AICO-C392", "HMAC-SHA-1 is weaker"),
        ("key_size=3072", "key_size=2048", "AICO-C392", "RSA-2048 is weaker"),
        ("iterations=600_000", "iterations=500_000", "AICO-C392", "PBKDF2-HMAC-SHA-256 is weaker"),
        ("ssl.TLSVersion.TLSv1_3", "ssl.TLSVersion.TLSv1_2", "AICO-C392", "TLS 1.2 is weaker"),
        ("AESGCM(key).encrypt(nonce, plaintext, None)",
         "Cipher(algorithms.AES(key), modes.CBC(nonce)).encryptor().update(plaintext)", "AICO-C392",
         "AES-CBC is weaker"),
        ("hashlib.md5(blob, usedforsecurity=False)", "hashlib.blake2b(blob)", "AICO-C391",
         "BLAKE2b (BLAKE2b) is not in the baseline"),
        ("AESGCM.generate_key(bit_length=256)", "ChaCha20Poly1305.generate_key()", "AICO-C391",
         "ChaCha20-Poly1305 (ChaCha20-Poly1305) is not in the baseline"),
    ],
)  # fmt: skip
def test_new_or_weaker_crypto_fails(
    tree: Path, accepted_inventory: Path, old: str, new: str, rule: str, says: str
) -> None:
    edit(tree, old, new)
    if "Cipher(" in new:
        edit(tree, "import AESGCM", "import AESGCM\nfrom cryptography.hazmat.primitives.ciphers import Cipher, "
             "algorithms, modes")  # fmt: skip
    if "ChaCha20Poly1305" in new:
        edit(tree, "import AESGCM", "import AESGCM, ChaCha20Poly1305")
    found = regressions(tree, accepted_inventory)
    assert any(r == rule and says in message for r, message in found), found


def test_sha256_to_sha1_is_weaker_across_algorithms(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "m.py").write_text("import hashlib\nhashlib.sha256(b'x')\n")
    path = write(tmp_path, baseline.baseline_document(report_of(root)))
    (root / "m.py").write_text("import hashlib\nhashlib.sha1(b'x', usedforsecurity=False)\n")
    assert regressions(root, path) == {("AICO-C392", "SHA-1 is weaker than the baseline's SHA-256")}


def test_stronger_settings_pass(tree: Path, accepted_inventory: Path) -> None:
    edit(tree, "MEMORY_KIB = 64 * 1024", "MEMORY_KIB = 256 * 1024")
    edit(tree, "iterations=600_000", "iterations=1_000_000")
    edit(tree, "key_size=3072", "key_size=4096")
    assert regressions(tree, accepted_inventory) == set()


def test_unknown_parameter_is_not_taken_for_the_accepted_one(tree: Path, accepted_inventory: Path) -> None:
    edit(tree, "iterations=600_000", "iterations=int(os.environ['ITER'])")
    assert regressions(tree, accepted_inventory) == {
        ("AICO-C391", "PBKDF2-HMAC-SHA-256 (PBKDF2) is not in the baseline inventory")
    }


def test_a_reviewed_inventory_change_can_be_accepted(tmp_path: Path, tree: Path, accepted_inventory: Path) -> None:
    edit(tree, "bit_length=256", "bit_length=128")
    report = baseline.apply(report_of(tree), accepted_inventory, TODAY)
    (regression,) = report.findings
    document = json.loads(accepted_inventory.read_text())
    document["accepted"] = [{"fingerprint": regression.fingerprint, "justification": "interop with v1 clients",
                             "expires": "2026-06-30"}]  # fmt: skip
    assert baseline.apply(report_of(tree), write(tmp_path, document), TODAY).exit_code == 0


def weak_report() -> ScanReport:
    return report_of(FIXTURES / "weak")


def acceptances(
    report: ScanReport, expires: dt.date, justification: str = "legacy import path, removal planned"
) -> list[baseline.Acceptance]:
    return [baseline.Acceptance(f.fingerprint, justification, expires, f.rule_id, f.path) for f in report.findings]


def test_accepted_findings_are_suppressed_until_they_expire(tmp_path: Path) -> None:
    report = weak_report()
    assert len(report.findings) == 8
    path = write(tmp_path, baseline.baseline_document(report, acceptances(report, TODAY)))
    passed = baseline.apply(report, path, TODAY)  # the expiry day itself still holds
    assert passed.findings == [] and passed.exit_code == 0
    recorded = passed.extra["baseline"]
    assert isinstance(recorded, dict) and len(recorded["suppressed"]) == 8
    expired = baseline.apply(report, path, TODAY + dt.timedelta(days=1))
    assert len(expired.findings) == 8 and expired.exit_code == 1
    assert all("(accepted until 2026-06-01)" in f.message for f in expired.findings)


def test_a_new_finding_fails_even_when_others_are_accepted(tmp_path: Path) -> None:
    report = weak_report()
    accepted = acceptances(report, TODAY)[1:]
    path = write(tmp_path, baseline.baseline_document(report, accepted))
    remaining = baseline.apply(report, path, TODAY).findings
    assert [f.fingerprint for f in remaining] == [report.findings[0].fingerprint]


def test_acceptance_survives_a_line_move(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "m.py").write_text("import hashlib\nhashlib.md5(b'x')\n")
    report = report_of(root)
    path = write(tmp_path, baseline.baseline_document(report, acceptances(report, TODAY)))
    (root / "m.py").write_text("import hashlib\n\n\n# moved\nhashlib.md5(b'x')\n")
    assert baseline.apply(report_of(root), path, TODAY).exit_code == 0


def test_no_inventory_cannot_be_compared(tmp_path: Path) -> None:
    document = {"version": 1, "assets": [], "accepted": []}
    report = ScanReport(root=tmp_path, results=[ScannerResult("config", items_scanned=1)])
    compared = baseline.apply(report, write(tmp_path, document), TODAY)
    assert compared.exit_code == 2
    assert any("no cryptographic inventory" in p for p in compared.problems)


GOOD_ENTRY = {"fingerprint": "0" * 32, "justification": "vendor API needs it", "expires": "2026-12-31"}


@pytest.mark.parametrize(
    "document",
    [
        {"version": 2, "assets": [], "accepted": []},
        {"version": 1, "assets": []},
        {"version": 1, "assets": [], "accepted": [], "comment": "unknown key"},
        {"version": 1, "assets": [], "accepted": [{**GOOD_ENTRY, "justification": ""}]},
        {"version": 1, "assets": [], "accepted": [{**GOOD_ENTRY, "justification": "   "}]},
        {"version": 1, "assets": [], "accepted": [{k: v for k, v in GOOD_ENTRY.items() if k != "expires"}]},
        {"version": 1, "assets": [], "accepted": [{**GOOD_ENTRY, "expires": "2026-02-30"}]},
        {"version": 1, "assets": [], "accepted": [{**GOOD_ENTRY, "expires": "next year"}]},
        {"version": 1, "assets": [], "accepted": [{**GOOD_ENTRY, "fingerprint": "B105"}]},
        {"version": 1, "assets": [{"name": "AES", "algorithm": "AES", "family": "aes", "strength": {"k": "256"}}],
         "accepted": []},
        [],
    ],
)  # fmt: skip
def test_malformed_baselines_are_refused(tmp_path: Path, document: object) -> None:
    with pytest.raises(ScanError):
        baseline.apply(weak_report(), write(tmp_path, document), TODAY)


def test_unreadable_baselines_are_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json")
    for path in (tmp_path / "x.json", tmp_path / "missing.json"):
        with pytest.raises(ScanError) as raised:
            baseline.load_baseline(path)
        assert "\n" not in str(raised.value)


def test_written_baseline_is_schema_valid_and_round_trips(tmp_path: Path) -> None:
    report = weak_report()
    document = baseline.baseline_document(report, acceptances(report, TODAY))
    loaded = baseline.load_baseline(write(tmp_path, document))
    assert len(loaded.accepted) == 8 and loaded.accepted[0].expires == TODAY
    assert {a.name for a in loaded.assets} >= {"MD5", "SHA-1", "3DES-CBC", "AES-ECB", "RC4", "RSA-1024", "TLS 1.0"}
