"""``audit verify`` on hostile logs: it streams with bounded memory, locates what was added, and answers every
unreadable or malformed input with one line and exit 2 (or exit 1 with a location when it is tampering), never
a traceback or a hang."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aico_secure.audit import verify as verify_module
from aico_secure.audit.chain import MAX_LINE_BYTES
from aico_secure.audit.codec import SealedCodec
from aico_secure.audit.errors import AuditLogUnreadable
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import CHECKPOINT_NAME, LOG_NAME
from aico_secure.audit.log import AuditLog
from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.audit.verify import verify_log
from aico_secure.keys import Keyring
from verification.peak_memory import PEAK_KIB_SOURCE

PASSWORD = "streaming-password"
ENTRIES = 5
RSS_LIMIT_KIB = 200 * 1024
# The verifier writes its own peak (VmHWM) to $PEAK_FILE as it exits: wait4's ru_maxrss would carry pytest's size.
CLI = PEAK_KIB_SOURCE + (
    "import os, sys\n"
    "from aico_secure.cli.main import main\n"
    "try:\n"
    "    code = main()\n"
    "finally:\n"
    "    with open(os.environ['PEAK_FILE'], 'w') as peak_out:\n"
    "        peak_out.write(str(peak_kib()))\n"
    "sys.exit(code)\n"
)


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("streaming-keys")
    Keyring.create(Keyring.path_in(root), PASSWORD, profile="test")
    return root


@pytest.fixture
def log_keys(keys_dir: Path) -> KeyringLogKeys:
    return KeyringLogKeys(Keyring.unlock(Keyring.path_in(keys_dir), PASSWORD))


@pytest.fixture
def audit_dir(tmp_path: Path, log_keys: KeyringLogKeys) -> Path:
    directory = tmp_path / "audit"
    log = AuditLog.open(directory, log_keys, durable=False)
    for i in range(ENTRIES):
        log.append(AuditEvent(category="auth", action="login", actor="198.51.100.7", result="failure",
                              details={"i": i}))
    log.close()
    return directory


def run_cli(audit_dir: Path, keys_dir: Path, *extra: str, timeout: float = 120) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak RSS of the verifier process in KiB, as the verifier itself saw it)."""
    out, err = audit_dir.parent / "cli.out", audit_dir.parent / "cli.err"
    peak_file = audit_dir.parent / "cli.peak"
    peak_file.unlink(missing_ok=True)
    env = {**os.environ, "AICO_SECURE_PASSWORD": PASSWORD, "PEAK_FILE": str(peak_file)}
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", CLI, "audit", "verify", str(audit_dir), "--keyring",
                                 str(keys_dir), *extra], stdout=stdout, stderr=stderr, env=env)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"the verifier did not finish within {timeout}s") from None
    peak = int(peak_file.read_text()) if peak_file.exists() else 0
    assert peak > 0, "the verifier did not report its peak memory"
    return proc.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"), peak


def one_line(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.mark.parametrize("shape", ["sparse hole", "garbage lines"])
def test_a_huge_tampered_log_is_located_with_bounded_memory(audit_dir: Path, keys_dir: Path, shape: str) -> None:
    log = audit_dir / LOG_NAME
    size = log.stat().st_size
    with log.open("r+b") as fh:
        if shape == "sparse hole":
            fh.truncate(size + 768 * 1024 * 1024)  # 768 MiB of zeros, no newline: one endless "line"
        else:
            fh.seek(size)
            block = os.urandom(1 << 20)
            for _ in range(96):  # 96 MiB of random bytes: ~400,000 short lines
                fh.write(block)
    code, out, err, peak = run_cli(audit_dir, keys_dir)
    assert code == 1, (code, out, err)
    assert "Traceback" not in err
    assert f"entry {ENTRIES} (byte {size}): inserted" in out, out
    print(f"peak RSS of the verifier: {peak // 1024} MiB")
    assert peak < RSS_LIMIT_KIB, f"the verifier peaked at {peak // 1024} MiB"


def test_a_run_of_garbage_lines_is_one_problem(audit_dir: Path, log_keys: KeyringLogKeys) -> None:
    log = audit_dir / LOG_NAME
    with log.open("ab") as fh:
        fh.write(b"\n" * 200_000)
    found = verify_log(audit_dir, log_keys, SealedCodec(log_keys), keep_events=False)
    assert not found.ok
    assert [(p.kind, p.position) for p in found.problems] == [("inserted", ENTRIES)]
    assert "200000 lines" in found.problems[0].detail


def test_problems_beyond_the_cap_are_counted_not_dropped(audit_dir: Path, log_keys: KeyringLogKeys,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    log = audit_dir / LOG_NAME
    lines = log.read_bytes().splitlines(keepends=True)
    swapped = [lines[0], lines[2], lines[1], lines[4], lines[3], *lines[5:]]  # two moves, each a problem
    log.write_bytes(b"".join([*swapped, b"x\n", lines[1], b"y\n", lines[3]]))
    monkeypatch.setattr(verify_module, "MAX_PROBLEMS", 2)
    found = verify_log(audit_dir, log_keys, SealedCodec(log_keys))
    assert len(found.problems) == 2 and found.omitted >= 2 and not found.ok
    assert "more problem(s) not listed" in found.describe()[-1]


def test_a_fifo_log_or_checkpoint_never_blocks(audit_dir: Path, keys_dir: Path, log_keys: KeyringLogKeys) -> None:
    checkpoint = audit_dir / CHECKPOINT_NAME
    checkpoint.unlink()
    os.mkfifo(checkpoint)
    code, out, err, _ = run_cli(audit_dir, keys_dir, timeout=30)
    assert code == 1 and "checkpoint is missing or damaged" in out, (code, out, err)
    log = audit_dir / LOG_NAME
    log.unlink()
    os.mkfifo(log)
    found = verify_log(audit_dir, log_keys, SealedCodec(log_keys))
    assert not found.ok and found.unreadable is not None and "FIFO" in found.unreadable
    code, out, err, _ = run_cli(audit_dir, keys_dir, timeout=30)
    assert code == 2, (code, out, err)
    one_line(err)


def test_os_errors_are_unreadable_not_tracebacks(audit_dir: Path, keys_dir: Path, log_keys: KeyringLogKeys,
                                                 tmp_path: Path) -> None:
    log = audit_dir / LOG_NAME
    log.unlink()
    log.symlink_to(log)  # ELOOP on open
    found = verify_log(audit_dir, log_keys, SealedCodec(log_keys))
    assert not found.ok and found.unreadable is not None
    code, _, err, _ = run_cli(audit_dir, keys_dir)
    assert code == 2
    one_line(err)
    log.unlink()
    log.mkdir()
    found = verify_log(audit_dir, log_keys, SealedCodec(log_keys))
    assert not found.ok and found.unreadable is not None
    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"x")
    assert verify_log(not_a_dir, log_keys, SealedCodec(log_keys)).unreadable is not None


@pytest.mark.parametrize("keyring_content", [b"[" * 200_000, b'{"format": ' + b"9" * 50_000 + b"}", b"\xff\xfe\x00",
                                             None])
def test_a_hostile_keyring_file_is_one_line_exit_2(audit_dir: Path, tmp_path: Path,
                                                   keyring_content: bytes | None) -> None:
    bad_keys = tmp_path / "bad-keys"
    bad_keys.mkdir()
    path = Keyring.path_in(bad_keys)
    if keyring_content is None:
        os.mkfifo(path)
    else:
        path.write_bytes(keyring_content)
    code, out, err, _ = run_cli(audit_dir, bad_keys, timeout=30)
    assert code == 2, (code, out, err)
    one_line(err)


def test_non_utf8_paths_are_reported_escaped(audit_dir: Path, keys_dir: Path, tmp_path: Path) -> None:
    odd = tmp_path / os.fsdecode(b"audit-\xff\xfe")
    audit_dir.rename(odd)
    code, out, err, _ = run_cli(odd, keys_dir)
    assert code == 0 and "intact" in out and "\\xff\\xfe" in out, (code, out, err)
    (odd / LOG_NAME).write_bytes(b"")
    code, out, err, _ = run_cli(odd, keys_dir)
    assert code in (1, 2) and "Traceback" not in err, (code, out, err)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, keys_dir: Path) -> tuple[Path, KeyringLogKeys]:
    keys = KeyringLogKeys(Keyring.unlock(Keyring.path_in(keys_dir), PASSWORD))
    directory = tmp_path_factory.mktemp("pristine") / "audit"
    log = AuditLog.open(directory, keys, durable=False)
    for i in range(ENTRIES):
        log.append(AuditEvent(category="auth", action="login", actor="198.51.100.7", details={"i": i}))
    log.close()
    return directory, keys


JUNK = st.one_of(st.binary(min_size=1, max_size=4096), st.integers(1, 50).map(lambda k: b"\n" * k),
                 st.integers(1, 3).map(lambda k: b"A" * (MAX_LINE_BYTES + k)),
                 st.integers(1, 3).map(lambda k: b"1 " * (MAX_LINE_BYTES // 2 + k) + b"\n"))


@given(junk=JUNK, at=st.integers(0, ENTRIES))
def test_any_bytes_inserted_at_an_entry_boundary_are_located(pristine: tuple[Path, KeyringLogKeys], junk: bytes,
                                                             at: int) -> None:
    directory, keys = pristine
    data = (directory / LOG_NAME).read_bytes()
    lines = data.splitlines(keepends=True)  # header, then the entries
    tampered = b"".join([*lines[: at + 1], junk, *lines[at + 1 :]])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(directory / CHECKPOINT_NAME, work / CHECKPOINT_NAME)
        (work / LOG_NAME).write_bytes(tampered)
        found = verify_log(work, keys, SealedCodec(keys), keep_events=False)
    assert not found.ok and found.unreadable is None
    assert any(p.position == at for p in found.problems), (at, found.describe())
    assert len(found.problems) <= 2, found.describe()


def test_the_writer_refuses_an_unreadable_log_as_unreadable(tmp_path: Path, log_keys: KeyringLogKeys) -> None:
    directory = tmp_path / "audit"
    directory.mkdir()
    os.mkfifo(directory / LOG_NAME)
    with pytest.raises(AuditLogUnreadable, match="FIFO"):
        AuditLog.open(directory, log_keys)
