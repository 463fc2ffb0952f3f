"""Damaged gateway state fails closed (AICO-GW-002, AICO-GW-003): after one file under ``data_dir`` is damaged (a
flipped byte, a truncation, a file that cannot be read), ``start`` either raises ``IntegrityViolation`` or
starts with the state intact. It never starts with revocations, failure counts or locks forgotten (a reset is
what an attacker who can corrupt a file wants), and never fails with another exception (the contract's
refusals are typed, so a caller can tell damage from a bug).

Every file the build keeps under ``data_dir`` is damaged in turn, each time in a fresh copy of the pristine
directory, with the same key session. The checks made on a gateway that did start write nothing (a locked
identity's attempt, a revoked session's tokens), so one trial cannot change what the next one finds.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aico_secure.target import IntegrityViolation
from aico_secure.target.gateway import RunningGateway

from . import steps
from .conftest import StartGateway
from .gwclient import SuiteClient

Damage = Callable[[Path], None]


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    if data:
        data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _unreadable(path: Path) -> None:
    """A directory where the file was: unreadable whatever the process's privileges (root reads a mode-000
    file)."""
    path.unlink()
    path.mkdir()


DAMAGES: dict[str, Damage] = {"flip": _flip, "truncate-half": _truncate, "unreadable": _unreadable}


def _trials(pristine: Path, root: Path) -> Iterator[tuple[str, Path]]:
    """(what was damaged, a damaged copy of ``pristine``) for every file under it and every kind of damage."""
    files = sorted(p.relative_to(pristine) for p in pristine.rglob("*") if p.is_file())
    assert files, f"the gateway keeps no file under data_dir ({pristine}): nothing to damage"
    number = 0
    for relative in files:
        for kind, damage in DAMAGES.items():
            number += 1
            copy = root / f"trial-{number}"
            shutil.copytree(pristine, copy)
            damage(copy / relative)
            yield f"{kind} of {relative}", copy


def _start_damaged(start_gateway: StartGateway, directory: Path, what: str) -> RunningGateway | None:
    """The started gateway, or None if ``start`` refused with ``IntegrityViolation``."""
    try:
        return start_gateway(directory)
    except IntegrityViolation:
        return None
    except Exception as exc:  # noqa: BLE001 - any other exception is the failure this test reports
        raise AssertionError(f"{what}: start failed with {type(exc).__name__}, not IntegrityViolation") from None


def _run(start_gateway: StartGateway, pristine: Path, root: Path, check: Callable[[RunningGateway, str], None],
         evidence: Callable[[str, object], None]) -> None:
    outcomes = {"refused": 0, "started intact": 0}
    for what, directory in _trials(pristine, root):
        gateway = _start_damaged(start_gateway, directory, what)
        if gateway is None:
            outcomes["refused"] += 1
        else:
            try:
                check(gateway, what)
            finally:
                gateway.stop()
            outcomes["started intact"] += 1
        shutil.rmtree(directory)
    evidence("damaged-state trials", outcomes)
    assert outcomes["refused"] > 0, "no damage to any state file was ever detected"


@pytest.mark.requirement("AICO-GW-003")
def test_damaged_state_never_resets_a_lock(start_gateway: StartGateway, tmp_path: Path, password: str,
                                           new_user: Callable[[], str],
                                           evidence: Callable[[str, object], None]) -> None:
    gateway = start_gateway(tmp_path / "pristine")
    user = new_user()
    gateway.register(user, password)
    with SuiteClient(gateway) as client:
        for _ in range(gateway.policy.identity_failure_threshold):
            steps.attempt(client, user, "wrong-" + password)
        locked = steps.attempt(client, user, password)
        assert locked.status == 429, f"the identity is not locked after the threshold: {locked.status}"
    gateway.stop()

    def check(started: RunningGateway, what: str) -> None:
        with SuiteClient(started) as client:
            response = steps.attempt(client, user, password)
        assert response.status == 429 and started.verification_count() == 0, (
            f"{what}: the gateway started and the lock was gone (answered {response.status}, "
            f"{started.verification_count()} proofs checked)")

    _run(start_gateway, gateway.data_dir, tmp_path / "trials", check, evidence)


@pytest.mark.requirement("AICO-GW-002")
def test_damaged_state_never_forgets_a_revocation(start_gateway: StartGateway, tmp_path: Path, password: str,
                                                  new_user: Callable[[], str],
                                                  evidence: Callable[[str, object], None]) -> None:
    gateway = start_gateway(tmp_path / "pristine")
    user = new_user()
    gateway.register(user, password)
    with SuiteClient(gateway) as client:
        login = steps.attempt(client, user, password).body
        access, refresh = str(login.get("access_token")), str(login.get("refresh_token"))
        out = steps.patient(lambda: client.request("POST", "/v1/auth/logout", token=access))
        assert out.status_code in (200, 204), f"logout failed: {out.status_code}"
        assert steps.me(client, access) == 401, "logout did not revoke the access token"
    gateway.stop()

    def check(started: RunningGateway, what: str) -> None:
        with SuiteClient(started) as client:
            assert steps.me(client, access) == 401, f"{what}: the gateway started and a revoked access token works"
            status = steps.refresh(client, refresh).status_code
            assert status == 401, f"{what}: the gateway started and a revoked refresh token works ({status})"

    _run(start_gateway, gateway.data_dir, tmp_path / "trials", check, evidence)
