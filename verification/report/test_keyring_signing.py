"""A signing key held in the AICO keyring: the same key across password changes and master-key rotation, a new
one only when its data key is rotated, and a wrong password gives no key at all."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from aico_secure.cli.passwords import PASSWORD_ENV
from aico_secure.keys.keyring import Keyring
from aico_secure.report import document, signing
from verification.report.samples import passing_report


def _public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.fixture
def keyring(tmp_path: Path) -> tuple[Path, str]:
    password = secrets.token_urlsafe(24)
    (tmp_path / "keys").mkdir()
    Keyring.create(Keyring.path_in(tmp_path / "keys"), password, profile="test")
    return tmp_path / "keys", password


def test_the_key_is_stable_across_password_change_and_master_rotation(keyring: tuple[Path, str]) -> None:
    directory, password = keyring
    first = _public(signing.keyring_private(directory, password))
    assert _public(signing.keyring_private(directory, password)) == first
    unlocked = Keyring.unlock(Keyring.path_in(directory), password)
    unlocked.rotate_master(password)
    new_password = secrets.token_urlsafe(24)
    unlocked.change_password(password, new_password)
    assert _public(signing.keyring_private(directory, new_password)) == first


def test_rotating_its_data_key_gives_a_new_signing_key(keyring: tuple[Path, str]) -> None:
    directory, password = keyring
    first = _public(signing.keyring_private(directory, password))
    Keyring.unlock(Keyring.path_in(directory), password).rotate_dek(signing.SIGNING_PURPOSE)
    assert _public(signing.keyring_private(directory, password)) != first


def test_a_wrong_password_gives_no_key_and_no_password_in_the_error(keyring: tuple[Path, str]) -> None:
    directory, _password = keyring
    wrong = secrets.token_urlsafe(24)
    with pytest.raises(signing.SigningError) as caught:
        signing.keyring_private(directory, wrong)
    assert wrong not in str(caught.value) and "\n" not in str(caught.value)


def _cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aico_secure.cli.main", "report", *map(str, args)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != PASSWORD_ENV})


def test_sign_and_verify_with_the_keyring_from_the_command_line(keyring: tuple[Path, str], tmp_path: Path) -> None:
    directory, password = keyring
    secret = tmp_path / "password"
    secret.write_text(password)
    report = tmp_path / "report.json"
    report.write_text(document.dump(passing_report()))
    public = tmp_path / "signer.pub.pem"
    made = _cli("keygen", "--keyring", directory, "--public", public, "--password-file", secret)
    assert made.returncode == 0, made.stderr
    signed = _cli("sign", report, "--keyring", directory, "--password-file", secret)
    assert signed.returncode == 0, signed.stderr
    assert _cli("verify", report, "--pubkey", public).returncode == 0
    for output in (made, signed):
        assert password not in output.stdout + output.stderr


def test_a_wrong_keyring_password_signs_nothing(keyring: tuple[Path, str], tmp_path: Path) -> None:
    directory, _password = keyring
    wrong = tmp_path / "password"
    wrong.write_text(secrets.token_urlsafe(24))
    report = tmp_path / "report.json"
    report.write_text(document.dump(passing_report()))
    proc = _cli("sign", report, "--keyring", directory, "--password-file", wrong)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not report.with_name("report.json.sig").exists()
