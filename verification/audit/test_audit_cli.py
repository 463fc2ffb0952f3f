"""``aico-secure audit verify``: exit codes, password sources, and problems printed with their positions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import LOG_NAME
from aico_secure.audit.log import AuditLog
from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.cli.main import main
from aico_secure.keys import Keyring

PASSWORD = "cli-password"


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    keyring = Keyring.create(Keyring.path_in(tmp_path / "keys"), PASSWORD, profile="test")
    log = AuditLog.open(tmp_path / "audit", KeyringLogKeys(keyring))
    for i in range(4):
        log.append(AuditEvent(category="auth", action="login", actor="198.51.100.1", result="failure",
                              details={"i": i}))
    log.close()
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    return tmp_path


def run(layout: Path, *extra: str) -> int:
    return main(["audit", "verify", str(layout / "audit"), "--keyring", str(layout / "keys"), *extra])


def test_intact_log_exits_0(layout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(layout, "--password-file", str(layout / "pw")) == 0
    out = capsys.readouterr().out
    assert "intact" in out and "4 entries" in out and PASSWORD not in out


def test_password_from_the_environment(layout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AICO_SECURE_PASSWORD", PASSWORD)
    assert run(layout) == 0


def test_tampered_log_exits_1_and_names_positions(layout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = layout / "audit" / LOG_NAME
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([lines[0], lines[1], lines[3], lines[2], lines[4]]))
    assert run(layout, "--password-file", str(layout / "pw"), "--format", "json") == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"] and [(p["kind"], p["position"]) for p in report["problems"]] in (
        [("reordered", 1)], [("reordered", 2)])


def test_usage_and_unreadable_inputs_exit_2(layout: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AICO_SECURE_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert run(layout) == 2  # no password source
    (layout / "wrong").write_text("not-the-password")
    assert run(layout, "--password-file", str(layout / "wrong")) == 2
    assert main(["audit", "verify", str(layout / "nowhere"), "--keyring", str(layout / "keys"),
                 "--password-file", str(layout / "pw")]) == 2
    with pytest.raises(SystemExit) as caught:
        run(layout, "--password", PASSWORD)  # there is no such option, and no abbreviation of another
    assert caught.value.code == 2
    assert main(["audit"]) == 2
    err = capsys.readouterr().err
    assert "not-the-password" not in err


def test_a_log_from_another_keyring_is_unreadable_not_tampered(layout: Path, tmp_path: Path) -> None:
    Keyring.create(Keyring.path_in(tmp_path / "stranger"), PASSWORD, profile="test")
    assert main(["audit", "verify", str(layout / "audit"), "--keyring", str(tmp_path / "stranger"),
                 "--password-file", str(layout / "pw")]) == 2
