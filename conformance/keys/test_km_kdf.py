"""AICO-KM-001: the master key comes from Argon2id with real parameters, and test keyrings say they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from aico_secure.target import KeysCapability

FLOOR = {"time_cost": 3, "memory_kib": 64 * 1024, "parallelism": 4}


def assert_production_grade(report: object) -> None:
    assert report.algorithm.lower() == "argon2id", f"KDF is {report.algorithm}, not Argon2id"
    assert report.salt_bytes >= 16, f"salt is {report.salt_bytes} bytes"
    for name, floor in FLOOR.items():
        assert getattr(report, name) >= floor, f"{name}={getattr(report, name)} is below RFC 9106's {floor}"
    assert not report.test_only, "keyring is marked as made with the test KDF profile"


@pytest.mark.requirement("AICO-KM-001")
def test_production_keyring_uses_argon2id_at_rfc9106_strength(keys: KeysCapability, tmp_path: Path, password: str,
                                                              evidence) -> None:
    session = keys.create(tmp_path / "keys", password, fast_kdf=False)
    session.close()
    report = keys.describe_kdf(tmp_path / "keys")
    evidence("kdf", f"{report.algorithm} t={report.time_cost} m={report.memory_kib}KiB p={report.parallelism} "
                    f"salt={report.salt_bytes}B")
    assert_production_grade(report)
    keys.unlock(tmp_path / "keys", password).close()


@pytest.mark.requirement("AICO-KM-001")
def test_a_keyring_below_the_floor_declares_itself_test_only(keys: KeysCapability, tmp_path: Path, password: str,
                                                            fast_kdf: bool) -> None:
    keys.create(tmp_path / "keys", password, fast_kdf=fast_kdf).close()
    report = keys.describe_kdf(tmp_path / "keys")
    below = any(getattr(report, n) < f for n, f in FLOOR.items()) or report.algorithm.lower() != "argon2id"
    if below:
        assert report.test_only, "a keyring below RFC 9106's floor does not say it was made for tests only"
    assert report.salt_bytes >= 16


@pytest.mark.requirement("AICO-KM-001")
@pytest.mark.aico_profile("release")
def test_release_refuses_test_kdf_keyrings(key_session: object, keys: KeysCapability, tmp_path: Path) -> None:
    """In a release run every keyring the suite makes must be production grade."""
    assert_production_grade(keys.describe_kdf(tmp_path / "keys"))
