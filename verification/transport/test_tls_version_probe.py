"""The TLS version probe: three verdicts, and "could not probe" never passes.

The regression this guards: on a hardened OpenSSL (TLS 1.0/1.1 switched off in its configuration) Python's
``ssl`` cannot send a TLS 1.0 ClientHello, and the probe used to record that as "not offered", so a sync server
that accepts TLS 1.0 passed AICO-TLS-001. A hardened OpenSSL is made real here with ``OPENSSL_CONF`` in a child
process; the server is a real loopback TLS 1.0 server in this process (its OpenSSL is not hardened).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aico_secure.conform.runner import INI
from aico_secure.conform.suite import suite_dir
from aico_secure.probes.tls import DeviceSet, ProbeTlsServer, SuitePki
from aico_secure.probes.tls_versions import (
    PROBED_VERSIONS,
    Attempt,
    ProbeTarget,
    Verdict,
    combine,
    nassl_attempt,
    probe_versions,
    python_ssl_attempt,
)
from aico_secure.target.keys import KeysCapability
from aico_secure.target.tls import TlsCapability

ROOT = Path(__file__).resolve().parents[2]
# What a distribution's hardening looks like (Debian/Ubuntu/RHEL crypto policies use these same directives).
HARDENED_OPENSSL_CNF = """\
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Protocol = ALL, -SSLv3, -TLSv1, -TLSv1.1
"""
# Run the probe in a child process and print {version: [verdict, [client verdicts]]}.
CHILD = """\
import json, sys
from pathlib import Path
from aico_secure.probes.tls_versions import ProbeTarget, probe_versions
port, ca, cert, key = sys.argv[1:5]
results = probe_versions(ProbeTarget(int(port), Path(ca), Path(cert), Path(key), timeout=3.0))
print(json.dumps({v: [str(r.verdict), [[a.client, str(a.verdict)] for a in r.attempts]] for v, r in results.items()}))
"""


@pytest.fixture
def pki(tmp_path: Path) -> SuitePki:
    return SuitePki(tmp_path / "pki")


@pytest.fixture
def no_nassl(tmp_path: Path) -> Path:
    """A directory that, first on PYTHONPATH, makes ``import nassl`` fail as if it were not installed."""
    package = tmp_path / "blocked" / "nassl"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('nassl is not installed here')\n")
    return package.parent


@pytest.fixture
def hardened_cnf(tmp_path: Path) -> Path:
    path = tmp_path / "hardened-openssl.cnf"
    path.write_text(HARDENED_OPENSSL_CNF)
    return path


def _legacy_server(pki: SuitePki) -> Iterator[tuple[ProbeTlsServer, str]]:
    """A real TLS 1.0 (else TLS 1.1) server on loopback: this process's OpenSSL at security level 0."""
    _ident, cert, key = pki.issue("legacy-server")
    for version in ("TLSv1", "TLSv1.1"):
        try:
            server = ProbeTlsServer(cert, key, version=version)
        except (ssl.SSLError, ValueError):
            continue
        with server:
            yield server, version
        return
    pytest.skip("this OpenSSL cannot serve TLS 1.0 or 1.1 at security level 0: no legacy server to catch")


@pytest.fixture
def legacy_server(pki: SuitePki) -> Iterator[tuple[ProbeTlsServer, str]]:
    yield from _legacy_server(pki)


# version -> (verdict, [(client, that client's verdict), ...])
ChildResults = dict[str, tuple[str, list[tuple[str, str]]]]


def _probe_in_child(pki: SuitePki, port: int, *, env: dict[str, str]) -> ChildResults:
    _ident, cert, key = pki.issue("probe-client")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(port), str(pki.ca_path), str(cert), str(key)],
                          capture_output=True, text=True, timeout=60, env={**os.environ, **env},
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: ChildResults = json.loads(proc.stdout)
    return result


def test_a_tls10_server_is_caught_when_the_local_openssl_cannot_offer_tls10(
        pki: SuitePki, legacy_server: tuple[ProbeTlsServer, str], hardened_cnf: Path) -> None:
    server, version = legacy_server
    results = _probe_in_child(pki, server.port, env={"OPENSSL_CONF": str(hardened_cnf)})
    verdict, attempts = results[version]
    python_ssl = [v for client, v in attempts if client.startswith("python ssl")]
    assert python_ssl == [str(Verdict.NOT_PROBED)], f"the hardening did not take effect: {attempts}"
    assert verdict == str(Verdict.ACCEPTED), f"a {version} server was not caught: {results}"
    assert results["TLSv1.3"][0] == str(Verdict.REFUSED)


def test_a_build_that_accepts_tls10_with_mutual_tls_is_caught_on_a_hardened_openssl(
        pki: SuitePki, hardened_cnf: Path, tmp_path: Path) -> None:
    """The negative control's sync server (mutual TLS, TLS 1.0/1.1 on, TLS 1.2 off) seen from a hardened client:
    the old probe reported 1.0 and 1.1 "not offered" and 1.2 refused, so this build passed TLS-001."""
    from conformance.controls.tls_legacy_device_compat import build

    target = build()
    keys, tls = target.require("keys"), target.require("tls")
    assert isinstance(keys, KeysCapability) and isinstance(tls, TlsCapability)
    session = keys.create(tmp_path / "keys", "pw-" + secrets.token_urlsafe(12), fast_kdf=True)
    devices = DeviceSet(tls, session, pki, tmp_path / "devices")
    try:
        _device, _ident, port = devices.serving("device-b")
        results = _probe_in_child(pki, port, env={"OPENSSL_CONF": str(hardened_cnf)})
    finally:
        devices.close()
        session.close()
    assert results["TLSv1"][0] == results["TLSv1.1"][0] == str(Verdict.ACCEPTED), results
    assert results["TLSv1.2"][0] == str(Verdict.REFUSED), results


def test_without_a_client_that_can_offer_it_the_version_is_could_not_probe(
        pki: SuitePki, legacy_server: tuple[ProbeTlsServer, str], hardened_cnf: Path, no_nassl: Path) -> None:
    server, version = legacy_server
    results = _probe_in_child(pki, server.port,
                              env={"OPENSSL_CONF": str(hardened_cnf), "PYTHONPATH": f"{no_nassl}{os.pathsep}{ROOT}"})
    assert results[version][0] == str(Verdict.NOT_PROBED), results
    assert results["SSLv3"][0] == str(Verdict.NOT_PROBED), results
    assert results["TLSv1.2"][0] == str(Verdict.REFUSED), results


def test_a_tls13_only_server_refuses_every_older_version(pki: SuitePki) -> None:
    _ident, cert, key = pki.issue("modern-server")
    _client, ccert, ckey = pki.issue("probe-client")
    with ProbeTlsServer(cert, key, version="TLSv1.3") as server:
        results = probe_versions(ProbeTarget(server.port, pki.ca_path, ccert, ckey))
    assert list(results) == list(PROBED_VERSIONS)
    assert results["TLSv1.3"].verdict is Verdict.ACCEPTED
    assert {v: r.verdict for v, r in results.items() if v != "TLSv1.3"} == {
        v: Verdict.REFUSED for v in PROBED_VERSIONS if v != "TLSv1.3"}, {v: str(r) for v, r in results.items()}


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1"])
def test_each_client_stack_sees_a_legacy_server(pki: SuitePki, version: str) -> None:
    """Both stacks, one at a time, against a real server that speaks only ``version``."""
    _ident, cert, key = pki.issue("server")
    _client, ccert, ckey = pki.issue("probe-client")
    try:
        server = ProbeTlsServer(cert, key, version=version)
    except (ssl.SSLError, ValueError):
        pytest.skip(f"this OpenSSL cannot serve {version}")
    with server:
        target = ProbeTarget(server.port, pki.ca_path, ccert, ckey)
        for attempt in (nassl_attempt, python_ssl_attempt):
            assert attempt(target, version).verdict is Verdict.ACCEPTED, attempt(target, version)
            assert attempt(target, "TLSv1.1").verdict is Verdict.REFUSED


def test_nothing_listening_is_could_not_probe(pki: SuitePki) -> None:
    _client, ccert, ckey = pki.issue("probe-client")
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    results = probe_versions(ProbeTarget(port, pki.ca_path, ccert, ckey, timeout=1.0))
    assert {r.verdict for r in results.values()} == {Verdict.NOT_PROBED}


def test_a_silent_server_is_could_not_probe_not_refused(pki: SuitePki) -> None:
    """A listener that never answers the ClientHello told us nothing."""
    _client, ccert, ckey = pki.issue("probe-client")
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.listen(16)
        target = ProbeTarget(silent.getsockname()[1], pki.ca_path, ccert, ckey, timeout=0.5)
        results = probe_versions(target, versions=("TLSv1", "TLSv1.3"))
    assert {r.verdict for r in results.values()} == {Verdict.NOT_PROBED}, {v: str(r) for v, r in results.items()}


def test_combining_verdicts() -> None:
    ok, no, unknown = (Attempt("a", Verdict.ACCEPTED, "x"), Attempt("b", Verdict.REFUSED, "alert"),
                       Attempt("c", Verdict.NOT_PROBED, "cannot offer"))
    assert combine("TLSv1", [no, ok]).verdict is Verdict.ACCEPTED
    assert combine("TLSv1", [unknown, no]).verdict is Verdict.REFUSED
    assert combine("TLSv1", [unknown, unknown]).verdict is Verdict.NOT_PROBED
    assert combine("TLSv1", []).verdict is Verdict.NOT_PROBED
    assert "cannot offer" in str(combine("TLSv1", [unknown]))


def test_conformance_fails_tls001_when_a_version_cannot_be_probed(tmp_path: Path, no_nassl: Path) -> None:
    """End to end: the reference build (TLS 1.3 only, correct) does not pass AICO-TLS-001 on a machine where no
    client can offer SSL 3.0, because that version was never asked."""
    suite, out = suite_dir(), tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "pytest", str(suite), "-c", str(INI), "--rootdir", str(suite), "-q",
                           "-p", "no:randomly", "--aico-target=aico_secure.reference:build",
                           "--aico-requirements=AICO-TLS-001", f"--aico-report-dir={out}",
                           "--aico-report-format=json"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=tmp_path, timeout=300,
                          env={**os.environ, "PYTHONPATH": f"{no_nassl}{os.pathsep}{ROOT}"})
    [report] = [json.loads(p.read_text()) for p in out.glob("*.json")]
    [requirement] = report["requirements"]
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert requirement["id"] == "AICO-TLS-001" and requirement["outcome"] == "fail", requirement
    assert any("could not probe" in (t.get("message") or "") for t in requirement["tests"]), requirement["tests"]
