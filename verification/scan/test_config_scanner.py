"""The configuration scanner on its fixture trees and on the inputs that must not pass quietly.

``fixtures/config/flawed`` holds every AICO-C2xx rule in YAML, TOML, JSON, INI and dotenv form; ``clean`` is its
twin with each value corrected, so a rule that fires on anything near its pattern fails the clean half.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from aico_secure.scan import config_rules
from aico_secure.scan._scanner.config import ConfigScanner, is_placeholder, is_wildcard_bind, tls_versions
from aico_secure.scan._scanner.interface import ScanOptions
from aico_secure.scan.model import ScannerResult, ScanReport

FIXTURES = Path(__file__).parent / "fixtures" / "config"

# (rule, path, line) for every finding the flawed tree must give, and nothing else.
EXPECTED = {
    ("AICO-C201", ".env", 2),
    ("AICO-C203", ".env", 3),
    ("AICO-C207", ".env", 4),
    ("AICO-C204", ".env", 5),
    ("AICO-C202", "bus.yaml", 4),
    ("AICO-C201", "bus.yaml", 7),
    ("AICO-C207", "bus.yaml", 8),
    ("AICO-C203", "bus.yaml", 10),
    ("AICO-C202", "gateway.toml", 3),
    ("AICO-C204", "gateway.toml", 7),
    ("AICO-C205", "gateway.toml", 11),
    ("AICO-C206", "kdf.json", 4),
    ("AICO-C206", "kdf.json", 5),
    ("AICO-C206", "kdf.json", 10),
    ("AICO-C206", "kdf.json", 13),
    ("AICO-C202", "legacy.ini", 2),
    ("AICO-C205", "legacy.ini", 3),
    ("AICO-C207", "legacy.ini", 6),
}
SECRETS = ["rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "ak_9f2c41d7e0b35a68", "Tr0ub4dor-and-3-horses"]


def scan(root: Path, **kwargs: int) -> ScannerResult:
    return ConfigScanner(**kwargs).scan(root, ScanOptions())


def test_flawed_tree_fires_every_rule_at_its_line() -> None:
    result = scan(FIXTURES / "flawed")
    assert result.problems == []
    assert result.items_scanned == 5
    assert {(f.rule_id, f.path, f.line) for f in result.findings} == EXPECTED
    assert {f.rule_id for f in result.findings} == {r.rule_id for r in config_rules.CONFIG_RULES}


def test_clean_twin_gives_nothing_and_says_it_read_everything() -> None:
    result = scan(FIXTURES / "clean")
    assert result.findings == []
    assert result.problems == []
    assert result.items_scanned == 5


def test_findings_carry_catalog_requirement_cwe_and_masked_evidence() -> None:
    result = scan(FIXTURES / "flawed")
    for finding in result.findings:
        rule = config_rules.RULES[finding.rule_id]
        assert (finding.requirement, finding.cwe, finding.severity) == (rule.requirement, rule.cwe, rule.severity)
        assert finding.scanner == "config" and finding.snippet
        for secret in SECRETS:
            assert secret not in finding.message and secret not in finding.snippet
    secret_snippets = sorted(f.snippet for f in result.findings if f.rule_id == "AICO-C207")
    assert secret_snippets == ["GATEWAY_API_KEY= ****", "password = ****", "server_secret: ****"]


def test_each_rule_threatens_an_existing_requirement() -> None:
    catalog = yaml.safe_load((Path(__file__).parents[2] / "conformance" / "requirements.yaml").read_text())
    known = {r["id"] for r in catalog["requirements"]}
    for rule in config_rules.RULES.values():
        assert rule.requirement is None or rule.requirement in known, rule.rule_id


@pytest.mark.parametrize(
    ("name", "text", "rule"),
    [
        ("a.yaml", "zmq:\n  auth:\n    curveAllowAny: on\n", "AICO-C201"),
        ("a.yaml", "auth:\n  location: zmq.auth.CURVE_ALLOW_ANY\n", "AICO-C201"),
        ("a.toml", '[bus.curve]\nlocation = "*"\n', "AICO-C201"),
        ("a.json", '{"listen_addr": "[::]:8443"}', "AICO-C202"),
        ("a.yaml", "server:\n  bind_address: ':8080'\n", "AICO-C202"),
        ("a.yaml", "endpoints:\n  bind: ['ipc:///tmp/bus', 'tcp://0.0.0.0:5556']\n", "AICO-C202"),
        ("settings.env", "FLASK_DEBUG=true\n", "AICO-C203"),
        ("a.yaml", "cors:\n  allowed_origins: ['*']\n  supports_credentials: yes\n", "AICO-C204"),
        ("a.ini", "[ssl]\nprotocols = TLSv1.2 TLSv1.3\n", "AICO-C205"),
        ("a.yaml", "tls:\n  tls_min: 1.2\n", "AICO-C205"),
        ("a.toml", 'ssl_version = "SSLv3"\n', "AICO-C205"),
        ("a.yaml", "kdf:\n  algorithm: argon2id\n  memory_mib: 32\n", "AICO-C206"),
        ("a.yaml", "argon2id:\n  memory: 1GiB\n  iterations: 1\n", "AICO-C206"),
        ("a.yaml", "password_hashing:\n  pbkdf2:\n    hash: sha512\n    rounds: 100000\n", "AICO-C206"),
        ("a.env", "SCRYPT_LOG_N=14\n", "AICO-C206"),
        ("a.yaml", "stripe:\n  apiKey: sk_live_51Hc0ffee\n", "AICO-C207"),
        ("a.json", '{"db": {"password": 12345678}}', "AICO-C207"),
        ("a.toml", '[bus]\ncurve_secret_key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"\n', "AICO-C207"),
    ],
)
def test_rule_shapes_beyond_the_fixture(tmp_path: Path, name: str, text: str, rule: str) -> None:
    (tmp_path / name).write_text(text)
    assert rule in {f.rule_id for f in scan(tmp_path).findings}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("a.yaml", "bus:\n  allow_any_origin: true\n  bind: tcp://127.0.0.1:5555\n"),
        ("a.yaml", "allowed_hosts: ['*']\nserver_url: http://0.0.0.0:8000\n"),
        ("a.yaml", "debug_port: 5678\nlog_level: debug\ndebug: false\n"),
        ("a.yaml", "cors:\n  allow_origins: ['*']\n  allow_credentials: false\n"),
        ("a.yaml", "tls:\n  min_version: TLSv1.3\n  max_version: TLSv1_3\n  ciphers: TLS_AES_256_GCM_SHA384\n"),
        ("a.yaml", "argon2:\n  memory_cost: 65536\n  time_cost: 3\n  parallelism: 1\n"),
        ("a.yaml", "argon2id:\n  memory: 2GiB\n  iterations: 1\n  lanes: 4\n"),
        ("a.yaml", "password:\n  min_length: 12\ntoken_ttl: 3600\npassword_file: /run/secrets/db\n"),
        ("a.json", '{"token lifetimes": "access 900 s, refresh 86400 s", "secret_names": ["db", "bus"]}'),
        ("a.yaml", "password: ${DB_PASSWORD}\napi_key: env:API_KEY\ntoken: <your-token>\nsecret: changeme\n"),
        ("a.yaml", "curve_public_key: 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7'\nmax_tokens: 4096\n"),
        ("a.env", "DATABASE_URL=postgres://app:${DB_PASSWORD}@127.0.0.1/app\nDEBUG=false\n"),
        ("pyproject.toml", '[project.entry-points."bandit.plugins"]\nhardcoded_secret_key = "pkg.checks:secret"\n'),
        ("report.json", '{"evidence": {"unrevoked token after restart": "refused", '
                        '"protocol versions offered": "SSLv3 refused"}}'),
    ],
)
def test_near_misses_stay_quiet(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    result = scan(tmp_path)
    assert result.findings == [], [(f.rule_id, f.message) for f in result.findings]
    assert result.items_scanned == 1


def test_yaml_lines_come_from_node_marks_in_multi_document_files(tmp_path: Path) -> None:
    (tmp_path / "multi.yaml").write_text("a: 1\n---\n# second\nserver:\n\n  debug: true\n")
    (finding,) = scan(tmp_path).findings
    assert (finding.path, finding.line) == ("multi.yaml", 6)


def test_json_and_toml_lines_follow_document_order_for_repeated_keys(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{\n "a": {"debug": false},\n "b": {\n  "debug": true\n }\n}\n')
    (tmp_path / "b.toml").write_text('[one]\nhost = "127.0.0.1"\n\n[two]\nhost = "0.0.0.0"\n')
    found = {(f.path, f.line) for f in scan(tmp_path).findings}
    assert found == {("a.json", 4), ("b.toml", 5)}


def test_unreadable_inputs_are_problems_never_silence(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("a: [unclosed\n")
    (tmp_path / "broken.json").write_text("{'single': 'quotes'}")
    (tmp_path / "broken.toml").write_text("a = \n")
    (tmp_path / "broken.ini").write_text("no section header\n")
    (tmp_path / "bad.env").write_text("not an assignment\n")
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    (tmp_path / "big.json").write_text('{"pad": "' + "x" * 2048 + '"}')
    result = scan(tmp_path, max_bytes=1024)
    assert result.items_scanned == 0
    problems = "\n".join(result.problems)
    for name in ("broken.yaml", "broken.json", "broken.toml", "broken.ini", "bad.env", "latin1.yaml", "big.json"):
        assert name in problems
    assert "over the 1024-byte bound" in problems


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    result = scan(tmp_path)
    assert result.items_scanned == 0
    assert any("bomb.yaml" in p and "nodes" in p for p in result.problems)


def test_skipped_directories_lockfiles_and_outward_links(tmp_path: Path) -> None:
    for skipped in (".git", "node_modules", ".venv", "__pycache__"):
        shutil.copytree(FIXTURES / "flawed", tmp_path / skipped)
    (tmp_path / "poetry.lock").write_text('[[package]]\nname = "x"\npassword = "hunter2hunter2"\n')
    (tmp_path / "ok.yaml").write_text("debug: false\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text("debug: true\n")
    os.symlink(outside, tmp_path / "linked.yaml")
    os.symlink(tmp_path.parent, tmp_path / "elsewhere")
    os.symlink(tmp_path / "ok.yaml", tmp_path / "inside.yaml")
    os.mkfifo(tmp_path / "pipe.yaml")
    result = scan(tmp_path)
    assert result.findings == []
    assert result.items_scanned == 1
    assert result.problems == [
        "elsewhere/: symbolic link out of the tree, not followed",
        "linked.yaml: symbolic link out of the tree, not followed",
        "pipe.yaml: not a regular file (a FIFO or device would block the scan), not read",
    ]


def test_a_tree_without_configuration_checks_nothing_and_cannot_pass(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing to configure\n")
    result = scan(tmp_path)
    assert result.items_scanned == 0
    assert ScanReport(root=tmp_path, results=[result]).exit_code == 2


@pytest.mark.parametrize(
    ("value", "wildcard"),
    [("0.0.0.0", True), ("*", True), ("::", True), ("[::]:443", True), ("tcp://*:5555", True),
     (":8080", True), ("0:0:0:0:0:0:0:0", True), ("127.0.0.1", False), ("::1", False), ("ipc:///tmp/x", False),
     ("localhost:80", False), ("tcp://127.0.0.1:5555", False), ("", False)],
)  # fmt: skip
def test_wildcard_binds(value: str, wildcard: bool) -> None:
    assert is_wildcard_bind(value) is wildcard


def test_tls_versions_and_placeholders() -> None:
    assert tls_versions("TLSv1.2", False) == [(1, 2)]
    assert tls_versions("PROTOCOL_TLSv1_1", False) == [(1, 1)]
    assert tls_versions("SSLv3 TLSv1", False) == [(0, 3), (1, 0)]
    assert tls_versions(1.2, False) == [] and tls_versions(1.2, True) == [(1, 2)]
    assert tls_versions("PROTOCOL_TLS_SERVER", True) == []
    assert all(is_placeholder(v) for v in ("", "${X}", "$X", "{{ x }}", "<secret>", "env:X", "****", "CHANGEME"))
    assert not any(is_placeholder(v) for v in ("hunter2hunter2", "sk_live_abc", "p@ss${"[:-2]))


def test_time_bound_is_a_problem_not_a_partial_pass(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("debug: false\n")
    result = ConfigScanner().scan(tmp_path, ScanOptions(timeout_seconds=-1))
    assert result.items_scanned == 0
    assert result.problems == ["time bound of -1 s reached with 1 file(s) not read"]
