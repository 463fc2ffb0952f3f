"""The cryptographic inventory: what it finds in code, how it writes the CBOM, and the weak primitives it reports.

``fixtures/crypto/weak`` has one weak primitive per line; ``fixtures/crypto/strong`` uses each library the way
the catalog asks and must give an inventory and no finding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from aico_secure.scan import config_rules
from aico_secure.scan._scanner.crypto_inventory import CryptoInventoryScanner, assets_of, inventory_source
from aico_secure.scan._scanner.interface import ScanOptions
from aico_secure.scan.model import ScannerResult, ScanReport

FIXTURES = Path(__file__).parent / "fixtures" / "crypto"


def scan(root: Path) -> ScannerResult:
    return CryptoInventoryScanner().scan(root, ScanOptions())


def components(result: ScannerResult) -> list[dict[str, Any]]:
    cbom = result.documents["cbom"]
    assert isinstance(cbom, dict)
    listed = cbom.get("components", [])
    assert isinstance(listed, list)
    return listed


def places(result: ScannerResult) -> dict[str, set[tuple[str, int]]]:
    found: dict[str, set[tuple[str, int]]] = {}
    for c in components(result):
        found.setdefault(c["name"], set()).update((o["location"], o["line"]) for o in c["evidence"]["occurrences"])
    return found


def test_weak_tree_reports_each_weak_primitive_at_its_line() -> None:
    result = scan(FIXTURES / "weak")
    assert result.problems == [] and result.items_scanned == 1
    assert {(f.rule_id, f.line) for f in result.findings} == {
        ("AICO-C301", 12),  # hashlib.md5
        ("AICO-C301", 16),  # hashlib.new("sha1")
        ("AICO-C302", 20),  # TripleDES
        ("AICO-C303", 25),  # AES.MODE_ECB
        ("AICO-C302", 29),  # ARC4
        ("AICO-C304", 33),  # RSA.generate(1024)
        ("AICO-C305", 38),  # TLSVersion.TLSv1
        ("AICO-C306", 43),  # pbkdf2_hmac 10 000
    }
    for finding in result.findings:
        rule = config_rules.RULES[finding.rule_id]
        assert (finding.scanner, finding.path, finding.requirement, finding.cwe) == (
            "crypto", "legacy.py", rule.requirement, rule.cwe,
        )  # fmt: skip
        assert finding.snippet


def test_strong_tree_gives_an_inventory_and_no_finding() -> None:
    result = scan(FIXTURES / "strong")
    assert result.findings == [] and result.problems == [] and result.items_scanned == 1
    found = places(result)
    expected = {
        "AES-256-GCM": {("vault.py", 29)},
        "AES-GCM": {("vault.py", 50)},
        "Argon2id": {("vault.py", 21), ("vault.py", 25)},
        "HKDF-SHA-256": {("vault.py", 33)},
        "PBKDF2-HMAC-SHA-256": {("vault.py", 37), ("vault.py", 41)},
        "HMAC-SHA-256": {("vault.py", 45)},
        "EC-secp256r1": {("vault.py", 54)},
        "RSA-3072": {("vault.py", 54)},
        "TLS 1.3": {("vault.py", 59)},
        "CurveZMQ": {("vault.py", 65), ("vault.py", 66)},
        "MD5": {("vault.py", 71)},  # usedforsecurity=False: inventoried, not a finding
        "OS CSPRNG": {("vault.py", 49)},
    }
    for name, where in expected.items():
        assert found.get(name) == where, name
    # hashlib's PBKDF2 and cryptography's are separate components (library is part of the identity).
    assert sum(c["name"] == "PBKDF2-HMAC-SHA-256" for c in components(result)) == 2


def test_cbom_is_valid_cyclonedx_1_6_with_crypto_properties() -> None:
    result = scan(FIXTURES / "strong")
    cbom = result.documents["cbom"]
    assert isinstance(cbom, dict) and cbom["bomFormat"] == "CycloneDX" and cbom["specVersion"] == "1.6"
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(cbom))
    assert error is None, error
    by_name = {c["name"]: c for c in components(result)}
    for component in by_name.values():
        assert component["type"] == "cryptographic-asset"
        assert component["cryptoProperties"]["assetType"] in {"algorithm", "protocol"}
    aes = by_name["AES-256-GCM"]["cryptoProperties"]["algorithmProperties"]
    assert aes == {"primitive": "ae", "mode": "gcm", "parameterSetIdentifier": "256",
                   "executionEnvironment": "software-plain-ram"}  # fmt: skip
    ec = by_name["EC-secp256r1"]["cryptoProperties"]["algorithmProperties"]
    assert ec["curve"] == "secp256r1"
    tls = by_name["TLS 1.3"]["cryptoProperties"]
    assert tls == {"assetType": "protocol", "protocolProperties": {"type": "tls", "version": "1.3"}}
    argon = {p["name"]: p["value"] for p in by_name["Argon2id"]["properties"]}
    assert argon["aico:param:memory_kib"] == "65536" and argon["aico:param:time_cost"] == "3"
    assert argon["aico:library"] == "argon2-cffi"


def test_assets_of_reads_back_what_the_baseline_compares() -> None:
    records = {r["name"]: r for r in assets_of(scan(FIXTURES / "strong").documents["cbom"])}
    assert records["AES-256-GCM"]["algorithm"] == "AES"
    assert records["AES-256-GCM"]["strength"] == {"key_size": 256, "mode": 3}
    assert records["Argon2id"]["strength"] == {"memory_kib": 65536, "time_cost": 3}
    assert records["TLS 1.3"]["location"] == "vault.py" and records["TLS 1.3"]["line"] == 59


@pytest.mark.parametrize(
    ("source", "asset", "rule"),
    [
        ("import hashlib as h\nh.sha1(b'x')\n", "SHA-1", "AICO-C301"),
        ("from hashlib import md5\nmd5(b'x')\n", "MD5", "AICO-C301"),
        ("from cryptography.hazmat.primitives import hashes\nhashes.Hash(hashes.SHA1())\n", "SHA-1", "AICO-C301"),
        ("from Cryptodome.Cipher import DES\nDES.new(b'k' * 8, DES.MODE_CBC)\n", "DES-CBC", "AICO-C302"),
        ("from Crypto.Cipher import Blowfish\nBlowfish.new(b'k' * 16, Blowfish.MODE_CTR)\n", "Blowfish-CTR",
         "AICO-C302"),
        ("from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n"
         "Cipher(algorithms.AES256(b'k' * 32), modes.ECB())\n", "AES-256-ECB", "AICO-C303"),
        ("from cryptography.hazmat.primitives.asymmetric import rsa\n"
         "rsa.generate_private_key(65537, 1024)\n", "RSA-1024", "AICO-C304"),
        ("from cryptography.hazmat.primitives.asymmetric import dsa\ndsa.generate_private_key(key_size=1024)\n",
         "DSA-1024", "AICO-C304"),
        ("import ssl\nssl.SSLContext(ssl.PROTOCOL_TLSv1_1)\n", "TLS 1.1", "AICO-C305"),
        ("import ssl\nctx = ssl.create_default_context()\nctx.maximum_version = ssl.TLSVersion.SSLv3\n", "SSL 3",
         "AICO-C305"),
        ("from argon2 import PasswordHasher\nPasswordHasher(memory_cost=1024)\n", "Argon2id", "AICO-C306"),
        ("from argon2 import profiles\nPROFILE = profiles.CHEAPEST\n", "Argon2id", "AICO-C306"),
        ("from nacl.pwhash import argon2id\nargon2id.kdf(32, b'pw', b's' * 16, opslimit=argon2id.OPSLIMIT_INTERACTIVE,"
         " memlimit=argon2id.MEMLIMIT_INTERACTIVE)\n", "Argon2id", "AICO-C306"),
        ("from Crypto.Protocol.KDF import PBKDF2\nPBKDF2(b'pw', b'salt')\n", "PBKDF2-HMAC-SHA-1", "AICO-C306"),
        ("import hashlib\nhashlib.scrypt(b'pw', salt=b's', n=2**14, r=8, p=1)\n", "scrypt", "AICO-C306"),
        ("from cryptography.hazmat.primitives.kdf.scrypt import Scrypt\nN = 1 << 14\nScrypt(b's', 32, N, 8, 1)\n",
         "scrypt", "AICO-C306"),
    ],
)  # fmt: skip
def test_weak_shapes_across_libraries(source: str, asset: str, rule: str) -> None:
    assets, findings = inventory_source(source, "m.py")
    assert asset in {a.name for a, _ in assets}
    assert rule in {f.rule_id for f in findings}


@pytest.mark.parametrize(
    ("source", "asset"),
    [
        ("from Crypto.Cipher import AES\nAES.new(b'k' * 32, AES.MODE_GCM)\n", "AES-GCM"),
        ("from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305\nChaCha20Poly1305(b'k' * 32)\n",
         "ChaCha20-Poly1305"),
        ("import nacl.secret\nnacl.secret.SecretBox(b'k' * 32)\n", "XSalsa20-Poly1305"),
        ("from nacl.signing import SigningKey\nSigningKey.generate()\n", "Ed25519"),
        ("from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey\n"
         "X25519PrivateKey.generate()\n", "X25519"),
        ("from Crypto.PublicKey import ECC\nECC.generate(curve='P-384')\n", "EC-secp384r1"),
        ("from argon2.low_level import Type, hash_secret_raw\n"
         "hash_secret_raw(b'pw', b's' * 16, time_cost=4, memory_cost=2**20, parallelism=4, hash_len=32, "
         "type=Type.ID)\n", "Argon2id"),
        ("from cryptography.hazmat.primitives.kdf.argon2 import Argon2id\n"
         "Argon2id(salt=b's' * 16, length=32, iterations=3, lanes=4, memory_cost=64 * 1024)\n", "Argon2id"),
        ("import hmac\nhmac.digest(b'k', b'm', 'sha512')\n", "HMAC-SHA-512"),
        ("import zmq\nzmq.curve_keypair()\n", "CurveZMQ"),
        ("import hashlib\nhashlib.sha1(b'etag', usedforsecurity=False)\n", "SHA-1"),
        ("import secrets\nsecrets.token_bytes(32)\n", "OS CSPRNG"),
        ("from cryptography.fernet import Fernet\nFernet(Fernet.generate_key())\n",
         "Fernet (AES-128-CBC, HMAC-SHA256)"),
    ],
)  # fmt: skip
def test_sound_shapes_are_inventoried_without_finding(source: str, asset: str) -> None:
    assets, findings = inventory_source(source, "m.py")
    assert asset in {a.name for a, _ in assets}
    assert findings == []


def test_nested_arguments_are_one_asset_not_three() -> None:
    source = (
        "from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n"
        "Cipher(algorithms.AES(b'k' * 16), modes.CBC(b'i' * 16))\n"
    )
    assets, _ = inventory_source(source, "m.py")
    assert [(a.name, line) for a, line in assets] == [("AES-CBC", 2)]


def test_names_without_imports_are_not_guessed() -> None:
    assets, findings = inventory_source("def md5(x):\n    return x\nmd5(b'x')\nAESGCM(b'k')\n", "m.py")
    assert assets == [] and findings == []


def test_unparsable_and_oversize_sources_are_problems(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "latin1.py").write_bytes(b"x = 'caf\xe9'\n")
    (tmp_path / "big.py").write_text("x = 1\n" * 400_000)
    (tmp_path / "ok.py").write_text("import hashlib\nhashlib.sha256(b'x')\n")
    result = scan(tmp_path)
    assert result.items_scanned == 1
    problems = "\n".join(result.problems)
    assert "broken.py" in problems and "latin1.py" in problems and "big.py" in problems
    assert {c["name"] for c in components(result)} == {"SHA-256"}


def test_tree_without_python_checks_nothing_and_cannot_pass(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hashlib.md5\n")
    result = scan(tmp_path)
    assert result.items_scanned == 0 and components(result) == []
    assert ScanReport(root=tmp_path, results=[result]).exit_code == 2


def test_time_bound_is_a_problem_not_a_partial_pass(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("import hashlib\nhashlib.md5(b'x')\n")
    result = CryptoInventoryScanner().scan(tmp_path, ScanOptions(timeout_seconds=-1))
    assert result.items_scanned == 0 and result.findings == []
    assert result.problems == ["time bound of -1 s reached with 1 file(s) not read"]
