"""Reading where a run came from: interpreter, OpenSSL, platform, the versions of every library the security
of a verdict depends on, and digests of the catalog and suite that judged it.

Versions are read from installed distribution metadata, never by importing the library (importing chromadb
costs seconds and starts threads). A library that is not installed says so.
"""

from __future__ import annotations

import hashlib
import platform
import ssl
import sys
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from aico_secure import __version__
from aico_secure.report.model import Provenance, TargetInfo

# The distributions whose behaviour a verdict rests on: cryptography and KDFs, the stores, the transports,
# the gateway, and the tools that ran the checks.
SECURITY_LIBRARIES = (
    "cryptography", "argon2-cffi", "argon2-cffi-bindings", "srp", "nassl", "pyzmq", "sqlcipher3-binary", "duckdb",
    "duckdb-extension-httpfs", "rocksdict", "chromadb", "starlette", "uvicorn", "h11", "httpx", "limits",
    "hypothesis", "pytest", "pytest-xdist", "atheris", "bandit", "pip-audit", "cyclonedx-python-lib",
    "jsonschema", "rfc8785", "pyyaml",
)
NOT_INSTALLED = "not installed"
SUITE_SUFFIXES = (".py", ".yaml", ".json", ".ini", ".txt")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def library_versions(names: tuple[str, ...] = SECURITY_LIBRARIES) -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = NOT_INSTALLED
    versions.update(_native_versions())
    return versions


def _native_versions() -> dict[str, str]:
    """Native libraries bundled in wheels, read only where reading them is cheap and side-effect free."""
    found: dict[str, str] = {}
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        found["openssl (cryptography)"] = backend.openssl_version_text()
    except Exception:  # noqa: BLE001 - a provenance line must never stop a report
        found["openssl (cryptography)"] = NOT_INSTALLED
    try:
        import zmq

        found["libzmq"] = zmq.zmq_version()
    except Exception:  # noqa: BLE001
        found["libzmq"] = NOT_INSTALLED
    return found


def file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(root: Path, suffixes: tuple[str, ...] = SUITE_SUFFIXES) -> str:
    """One digest over every file of a tree with these suffixes (relative name and content), so two suites
    differing in one byte of one test have different digests; caches are left out."""
    outer = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes
                       and "__pycache__" not in p.parts and ".hypothesis" not in p.parts):
        outer.update(path.relative_to(root).as_posix().encode() + b"\0")
        outer.update(hashlib.sha256(path.read_bytes()).digest())
    return "sha256:" + outer.hexdigest()


@lru_cache(maxsize=1)
def suite_digests() -> tuple[int, str, str]:
    """(catalog version, catalog digest, suite digest) of the suite this package ships."""
    from aico_secure.conform.catalog import default_catalog
    from aico_secure.conform.suite import catalog_path, suite_dir

    return default_catalog().version, file_digest(catalog_path()), tree_digest(suite_dir())


def collect(command: str, *, started_at: str, finished_at: str | None = None, target: TargetInfo | None = None,
            profile: str | None = None, hypothesis_seed: str | None = None, arguments: tuple[str, ...] = (),
            with_suite: bool = True) -> Provenance:
    version, catalog_digest, suite_digest = suite_digests() if with_suite else (None, None, None)
    return Provenance(
        command=command, tool_version=__version__, started_at=started_at, finished_at=finished_at or now(),
        python=f"{platform.python_implementation()} {sys.version.split()[0]}", openssl=ssl.OPENSSL_VERSION,
        platform=platform.platform(), libraries=library_versions(), catalog_version=version,
        catalog_digest=catalog_digest, suite_digest=suite_digest, target=target, profile=profile,
        hypothesis_seed=hypothesis_seed, arguments=arguments,
    )
