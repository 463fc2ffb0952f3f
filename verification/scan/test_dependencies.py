"""The dependency scanner: pip-audit against real OSV records served from 127.0.0.1, failing closed.

Every test here stays on the loopback interface: vulnerability data comes from the fixture records (real,
trimmed osv.dev records) through the scanner's own mirror, or from servers these tests start on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packaging.utils import canonicalize_name

from aico_secure.scan._scanner.dependencies import DependencyScanner
from aico_secure.scan._scanner.interface import ScanOptions
from aico_secure.scan.model import ScannerResult, ScanReport, Severity
from aico_secure.scan.orchestrator import run_scan
from aico_secure.scan.osv_mirror import OsvDatabase, OsvDatabaseError, OsvMirror, cvss3_base_score

FIXTURES = Path(__file__).parent / "fixtures" / "dependencies"
OSV = FIXTURES / "osv"
REPO_PYTHON = Path(sys.executable)

# Every advisory in the fixture database, as pip-audit names it (GHSA-hggm-jpg3-v476 merges into PYSEC-2021-62).
ALL_ADVISORIES = {
    "PYSEC-2019-217",
    "PYSEC-2021-142",
    "PYSEC-2018-28",
    "PYSEC-2023-74",
    "PYSEC-2023-192",
    "PYSEC-2021-62",
}


def scan(root: Path, **options: Any) -> ScannerResult:
    return DependencyScanner().scan(root, ScanOptions(**options))


def exit_code(result: ScannerResult) -> int:
    return ScanReport(root=Path("."), results=[result]).exit_code


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@contextmanager
def serve(answer: dict[str, Any], status: int = 200) -> Iterator[str]:
    """A loopback HTTP endpoint that gives every POST the same answer (a stand-in for a broken OSV service)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/query"


# ------------------------------------------------------------------ the flawed and clean twins


def test_flawed_tree_every_advisory_fires() -> None:
    result = scan(FIXTURES / "flawed", osv_db=OSV)
    assert result.problems == []
    assert {f.rule_id for f in result.findings} == ALL_ADVISORIES
    assert all(f.scanner == "dependencies" and f.requirement is None for f in result.findings)
    assert result.items_scanned == 6  # jinja2, pyyaml, requests, urllib3 x2, cryptography
    assert exit_code(result) == 1


def test_clean_twin_nothing_fires() -> None:
    result = scan(FIXTURES / "clean", osv_db=OSV)
    assert result.problems == []
    assert result.findings == []
    assert result.items_scanned == 7  # every first fixed version, both urllib3 branches, two pyyaml pins
    assert exit_code(result) == 0


def test_finding_points_at_the_manifest_line() -> None:
    result = scan(FIXTURES / "flawed", osv_db=OSV)
    where = {(f.rule_id, f.path, f.line, f.snippet) for f in result.findings}
    assert ("PYSEC-2019-217", "requirements.txt", 2, "jinja2==2.10") in where
    assert ("PYSEC-2019-217", "pyproject.toml", 5, "jinja2>=2.8") in where  # unpinned there, pinned beside it
    assert ("PYSEC-2023-192", "pyproject.toml", 6, "urllib3==2.0.4") in where  # the 2.x range
    assert ("PYSEC-2023-192", "requirements.txt", 5, "urllib3==1.26.16") in where  # the 1.x range
    assert ("PYSEC-2021-142", "pylock.toml", 5, "pyyaml==5.3.1") in where
    crypto = next(f for f in result.findings if f.rule_id == "PYSEC-2021-62")
    assert "GHSA-hggm-jpg3-v476" in crypto.message and "CVE-2020-25659" in crypto.message
    assert "3.2.1" in crypto.message


def test_severity_comes_from_the_record() -> None:
    by_id = {f.rule_id: f.severity for f in scan(FIXTURES / "flawed", osv_db=OSV).findings}
    assert by_id["PYSEC-2023-192"] == Severity.HIGH  # CVSS:3.1 vector, base score 8.1
    assert by_id["PYSEC-2021-62"] == Severity.MEDIUM  # the merged GHSA record's "MODERATE"
    assert by_id["PYSEC-2019-217"] == Severity.HIGH  # no rating in the record: unrated is not low


def test_cvss3_scores_match_published_ones() -> None:
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N") == 8.1  # CVE-2023-43804
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N") == 5.9  # CVE-2020-25659
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H") == 10.0
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N") == 0.0
    assert cvss3_base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N") is None


# ------------------------------------------------------------------ failing closed


def test_a_proxy_in_the_environment_never_stands_before_the_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    dead_proxy = closed_port_url().removesuffix("/v1/query")
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, dead_proxy)
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    result = scan(FIXTURES / "flawed", osv_db=OSV)
    assert result.problems == []
    assert {f.rule_id for f in result.findings} == ALL_ADVISORIES


def test_unreachable_osv_service_is_a_problem_not_a_pass() -> None:
    result = scan(FIXTURES / "clean", osv_url=closed_port_url(), timeout_seconds=30)
    assert result.items_scanned == 0
    assert result.findings == []
    assert any("vulnerability data unavailable" in p for p in result.problems)
    for name in ("jinja2", "pyyaml", "requests", "urllib3", "cryptography"):
        assert any(p.startswith(f"{name} ") and "not audited" in p for p in result.problems), name
    assert exit_code(result) == 2


def test_service_that_answers_nothing_is_not_believed() -> None:
    """What pip-audit reports as "No known vulnerabilities found": a 200 with no vulnerabilities, for anything."""
    with serve({}) as url:
        result = scan(FIXTURES / "flawed", osv_url=url, timeout_seconds=30)
    assert result.items_scanned == 0
    assert any("does not report" in p for p in result.problems)
    assert exit_code(result) == 2


def test_service_error_is_a_problem() -> None:
    with serve({"error": "overloaded"}, status=503) as url:
        result = scan(FIXTURES / "clean", osv_url=url, timeout_seconds=30)
    assert result.items_scanned == 0
    assert exit_code(result) == 2


def test_osv_url_serving_real_data_is_used() -> None:
    """Another OSV endpoint (here the mirror, reached by URL) that passes the canary is trusted."""
    with OsvMirror(OsvDatabase.load(OSV)) as mirror:
        result = scan(FIXTURES / "flawed", osv_url=mirror.url, timeout_seconds=30)
        asked = mirror.answered()
    assert result.problems == []
    assert {f.rule_id for f in result.findings} == ALL_ADVISORIES
    assert ("pyyaml", "5.3.1") in asked and ("cryptography", "3.1") in asked


def test_unpinned_dependency_is_a_problem_and_the_rest_is_still_audited(tmp_path: Path) -> None:
    root = tree(tmp_path, {"requirements.txt": "jinja2==2.10\nflask>=2.0\nrequests\n"})
    result = scan(root, osv_db=OSV)
    assert result.items_scanned == 1
    assert {f.rule_id for f in result.findings} == {"PYSEC-2019-217"}
    unpinned = [p for p in result.problems if "not pinned" in p]
    assert len(unpinned) == 2
    assert any("requirements.txt:2" in p and "flask>=2.0" in p for p in unpinned)
    assert any("requirements.txt:3" in p and "'requests'" in p for p in unpinned)
    assert exit_code(result) == 2


def test_unpinned_range_is_not_covered_by_a_pin_outside_it(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndependencies = ["jinja2>=3"]\n',
            "requirements.txt": "jinja2==2.10\n",
        },
    )
    result = scan(root, osv_db=OSV)
    assert any("pyproject.toml:4" in p and "not pinned" in p for p in result.problems)
    assert [f.path for f in result.findings] == ["requirements.txt"]


def test_url_and_editable_requirements_are_problems(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {"requirements.txt": "jinja2==2.10.1\n-e ./local-pkg\nsomepkg @ https://example.invalid/somepkg-1.0.tar.gz\n"},
    )
    result = scan(root, osv_db=OSV)
    assert result.items_scanned == 1
    assert len([p for p in result.problems if "names no released version" in p]) == 2
    assert exit_code(result) == 2


def test_included_files_are_followed_once(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "requirements.txt": "requests==2.19.1\n",
            "requirements-dev.txt": "-r requirements.txt\njinja2==2.10\n",
        },
    )
    result = scan(root, osv_db=OSV)
    assert result.problems == []
    where = sorted((f.rule_id, f.path, f.line) for f in result.findings)
    assert where == [
        ("PYSEC-2018-28", "requirements.txt", 1),
        ("PYSEC-2019-217", "requirements-dev.txt", 2),
        ("PYSEC-2023-74", "requirements.txt", 1),
    ]


def test_missing_included_file_is_a_problem(tmp_path: Path) -> None:
    root = tree(tmp_path, {"requirements.txt": "-r gone.txt\njinja2==2.10.1\n"})
    result = scan(root, osv_db=OSV)
    assert any(p.startswith("requirements.txt: could not be parsed") for p in result.problems)
    assert exit_code(result) == 2


def test_unsupported_lockfile_is_a_problem(tmp_path: Path) -> None:
    root = tree(tmp_path, {"requirements.txt": "jinja2==2.10.1\n", "poetry.lock": "[[package]]\n"})
    result = scan(root, osv_db=OSV)
    assert any(p.startswith("poetry.lock: manifest format not supported") for p in result.problems)
    assert exit_code(result) == 2


def test_dynamic_dependencies_are_a_problem(tmp_path: Path) -> None:
    root = tree(tmp_path, {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndynamic = ["dependencies"]\n'})
    result = scan(root, osv_db=OSV)
    assert any("dynamic" in p for p in result.problems)
    assert exit_code(result) == 2


def test_unusable_record_is_a_problem(tmp_path: Path) -> None:
    db = tmp_path / "osv"
    shutil.copytree(OSV, db)
    (db / "broken.json").write_text("{not json")
    (db / "PYSEC-9999-1.json").write_text(
        json.dumps(
            {
                "id": "PYSEC-9999-1",
                "affected": [
                    {
                        "package": {"name": "jinja2", "ecosystem": "PyPI"},
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "not a version"}]}],
                    }
                ],
            }
        )
    )
    result = scan(FIXTURES / "clean", osv_db=db)
    assert result.findings == []
    assert any("broken.json" in p for p in result.problems)
    assert any("PYSEC-9999-1" in p for p in result.problems)
    assert exit_code(result) == 2


def test_empty_database_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    result = scan(FIXTURES / "flawed", osv_db=tmp_path / "db")
    assert result.items_scanned == 0
    assert any("holds no PyPI advisory" in p for p in result.problems)
    assert exit_code(result) == 2


def test_time_bound_is_a_problem() -> None:
    result = scan(FIXTURES / "clean", osv_db=OSV, timeout_seconds=0)
    assert result.items_scanned == 0
    assert any("time bound" in p for p in result.problems)
    assert exit_code(result) == 2


def test_missing_explicit_requirements_file_is_a_problem(tmp_path: Path) -> None:
    result = scan(tmp_path, osv_db=OSV, requirements=(tmp_path / "nope.txt",))
    assert any("no such requirements file" in p for p in result.problems)
    assert exit_code(result) == 2


def test_explicit_requirements_replace_discovery() -> None:
    result = scan(FIXTURES / "clean", osv_db=OSV, requirements=(FIXTURES / "flawed" / "requirements.txt",))
    assert result.problems == []
    assert {f.rule_id for f in result.findings} == ALL_ADVISORIES
    assert result.items_scanned == 5


def test_tree_without_manifest_audits_nothing_and_claims_nothing(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hi')\n")
    result = scan(tmp_path, osv_db=OSV)
    assert (result.items_scanned, result.findings, result.problems) == (0, [], [])
    assert exit_code(result) == 2  # on its own, a scan that audited nothing is "not checked"


# ------------------------------------------------------------------ installed environments


def test_env_audit_of_this_environment() -> None:
    listing = subprocess.run(
        [
            str(REPO_PYTHON),
            "-I",
            "-c",
            "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    expected = {canonicalize_name(n) for n in listing}
    result = scan(FIXTURES / "flawed", osv_db=OSV, env_python=REPO_PYTHON)
    assert result.problems == []
    assert result.findings == []  # the venv's versions are all past the fixture advisories
    assert result.items_scanned == len(expected) > 20
    sbom = result.documents["sbom"]
    assert isinstance(sbom, dict)
    assert {c["name"] for c in sbom["components"]} == expected


def test_env_audit_finds_an_installed_vulnerable_distribution(tmp_path: Path) -> None:
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    info = Path(purelib) / "Jinja2-2.10.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\n")
    result = scan(tmp_path, osv_db=OSV, env_python=python)
    assert result.problems == []
    assert [f.rule_id for f in result.findings] == ["PYSEC-2019-217"]
    assert result.findings[0].path == "env/bin/python"
    assert result.items_scanned == 1


def test_env_that_cannot_be_listed_is_a_problem(tmp_path: Path) -> None:
    result = scan(tmp_path, osv_db=OSV, env_python=tmp_path / "no-python")
    assert result.items_scanned == 0
    assert any("could not list installed distributions" in p for p in result.problems)
    assert exit_code(result) == 2


# ------------------------------------------------------------------ the SBOM


def test_sbom_is_valid_cyclonedx_with_components_and_vulnerabilities() -> None:
    result = scan(FIXTURES / "flawed", osv_db=OSV)
    sbom = result.documents["sbom"]
    assert isinstance(sbom, dict)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(sbom)) is None
    assert sbom["specVersion"] == "1.6"
    purls = {c["purl"] for c in sbom["components"]}
    assert purls == {
        "pkg:pypi/jinja2@2.10",
        "pkg:pypi/pyyaml@5.3.1",
        "pkg:pypi/requests@2.19.1",
        "pkg:pypi/urllib3@1.26.16",
        "pkg:pypi/urllib3@2.0.4",
        "pkg:pypi/cryptography@3.1",
    }
    affects = {(v["id"], a["ref"]) for v in sbom["vulnerabilities"] for a in v["affects"]}
    assert ("PYSEC-2023-192", "pkg:pypi/urllib3@2.0.4") in affects
    assert ("PYSEC-2021-62", "pkg:pypi/cryptography@3.1") in affects
    assert {ref for _, ref in affects} <= purls


def test_sbom_reaches_the_report_through_the_orchestrator() -> None:
    report = run_scan(FIXTURES / "clean", ScanOptions(osv_db=OSV), only=["dependencies"])
    assert report.exit_code == 0
    sbom = report.extra["sbom"]
    assert isinstance(sbom, dict) and len(sbom["components"]) == 7
    assert "vulnerabilities" not in sbom or sbom["vulnerabilities"] == []


def test_no_sbom_when_nothing_was_audited() -> None:
    result = scan(FIXTURES / "clean", osv_url=closed_port_url(), timeout_seconds=30)
    assert "sbom" not in result.documents


# ------------------------------------------------------------------ the mirror's OSV semantics and protocol


def _ids(db: OsvDatabase, name: str, version: str) -> set[str]:
    return {r["id"] for r in db.query(name, version)}


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("1.25.0", True),
        ("1.26.16", True),
        ("1.26.17", False),
        ("1.26.18", False),
        ("2.0.0", True),
        ("2.0.3", True),
        ("2.0.5", True),
        ("2.0.6", False),
        ("2.2.0", False),
    ],
)
def test_unordered_events_with_two_introductions(tmp_path: Path, version: str, affected: bool) -> None:
    """PYSEC-2023-192 lists its 2.x range before its 1.x range; the events must be evaluated in version order.
    Its ``versions`` list is dropped so that only the range decides."""
    record = json.loads((OSV / "PYSEC-2023-192.json").read_text())
    del record["affected"][0]["versions"]
    (tmp_path / "PYSEC-2023-192.json").write_text(json.dumps(record))
    assert ("PYSEC-2023-192" in _ids(OsvDatabase.load(tmp_path), "urllib3", version)) is affected


def test_matching_rules(tmp_path: Path) -> None:
    records = [
        {"id": "T-1", "affected": [{"package": {"name": "Some_Pkg", "ecosystem": "PyPI"}, "versions": ["1.0"]}]},
        {
            "id": "T-2",
            "affected": [
                {
                    "package": {"name": "some-pkg", "ecosystem": "PyPI"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"last_affected": "2.4"}]}],
                }
            ],
        },
        {
            "id": "T-3",
            "withdrawn": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"name": "some-pkg", "ecosystem": "PyPI"}, "versions": ["1.0"]}],
        },
        {"id": "T-4", "affected": [{"package": {"name": "some-pkg", "ecosystem": "npm"}, "versions": ["1.0"]}]},
    ]
    for record in records:
        (tmp_path / f"{record['id']}.json").write_text(json.dumps(record))
    db = OsvDatabase.load(tmp_path)
    assert _ids(db, "some.pkg", "1.0") == {"T-1"}  # canonical names; withdrawn and other ecosystems ignored
    assert _ids(db, "some-pkg", "1.0.0") == {"T-1"}  # PEP 440 equality, not string equality
    assert _ids(db, "some-pkg", "2.4") == {"T-2"}
    assert _ids(db, "some-pkg", "2.4.1") == set()
    assert _ids(db, "some-pkg", "1.9") == set()


def test_missing_database_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(OsvDatabaseError):
        OsvDatabase.load(tmp_path / "absent")


def test_mirror_speaks_the_osv_query_protocol() -> None:
    with OsvMirror(OsvDatabase.load(OSV)) as mirror:
        port = int(mirror.url.split(":")[2].split("/")[0])

        def post(path: str, body: bytes) -> tuple[int, Any]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            status, data = response.status, json.loads(response.read() or b"null")
            conn.close()
            return status, data

        query = {"package": {"name": "Jinja2", "ecosystem": "PyPI"}, "version": "2.10"}
        status, data = post("/v1/query", json.dumps(query).encode())
        assert status == 200 and [v["id"] for v in data["vulns"]] == ["PYSEC-2019-217"]
        query["version"] = "2.10.1"
        assert post("/v1/query", json.dumps(query).encode()) == (200, {})
        assert post("/v1/query", b"{}")[0] == 400
        assert post("/v1/other", b"{}")[0] == 404
        query["package"]["ecosystem"] = "npm"  # type: ignore[index]
        assert post("/v1/query", json.dumps(query).encode())[0] == 400
        assert ("jinja2", "2.10") in mirror.answered()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
