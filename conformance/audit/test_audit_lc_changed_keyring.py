"""``verify`` reports, it does not raise (AICO-AUD-003), also when the keyring behind the session changed.

A verifier runs next to other programs: the user may change the password or rotate the master key from another
process while a session is open, which the audit log's checks (its keys, its rollback anchor) then read through
a session that is out of date. Whatever the build makes of that (the log still verifies, or it cannot rule out
a rollback and says so), the answer is a report; an exception escaping ``verify`` leaves an auditor with no
verdict at all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.target import KeySession
from aico_secure.target.audit import AuditCapability, AuditReport
from aico_secure.target.keys import KeysCapability

CHANGES: dict[str, Callable[[KeySession, str], None]] = {
    "password-changed": lambda other, password: other.change_password(password, password + "-Elsewhere-7"),
    "master-rotated": lambda other, password: other.rotate_master(password),
}


@pytest.mark.requirement("AICO-AUD-003")
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_verify_reports_after_the_keyring_changed_elsewhere(audit: AuditCapability, keys: KeysCapability,
                                                            key_session: KeySession, password: str, tmp_path: Path,
                                                            written_log: list[tuple[Path, int, int]],
                                                            change: str) -> None:
    other = keys.unlock(tmp_path / "keys", password)
    try:
        CHANGES[change](other, password)
    finally:
        other.close()
    report = audit.verify(key_session, tmp_path / "audit")
    assert isinstance(report, AuditReport), f"verify returned {type(report).__name__}, not a report"
    assert report.ok or report.problems, "a log reported not intact without naming any problem"
