"""Entries whose MAC verifies but whose sealed body is hostile (what a holder of the audit keys, or a bug, could
write): deep JSON nesting, huge integers, non-UTF-8, arbitrary bytes. Verification must locate the entry as
modified and carry on, never raise; the CLI says so with exit 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aico_secure.audit.chain import EntryLine, entry_mac, parse_entry, parse_header
from aico_secure.audit.codec import SealedCodec
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import CHECKPOINT_NAME, LOG_NAME
from aico_secure.audit.log import AuditLog
from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.audit.verify import verify_log
from aico_secure.keys import Keyring, UnlockedKeyring

from .conftest import PASSWORD

N = 4
VICTIM = 2
HOSTILE = [
    b"[" * 100_000,
    b'{"v": 1, "details": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    b'{"v": ' + b"9" * 5_000 + b"}",
    b'{"v": 1, "category": "auth", "action": "a", "actor": "b", "result": "success", "subject": "", '
    b'"details": {}, "ts": ' + b"9" * 400 + b"}",
    b'{"v": 1, "category": "auth", "action": "a", "actor": "b", "result": "success", "subject": "", '
    b'"details": {"x": ' + b"9" * 4_000 + b"}, \"ts\": 1}",
    b'{"v": 1, "category": ["auth"], "action": {}, "actor": null, "result": 1, "subject": [], "details": {}, '
    b'"ts": "now"}',
    b"\xff\xfe\x80 not utf-8",
    b"",
]


@dataclass(frozen=True)
class Base:
    directory: Path
    lines: tuple[bytes, ...]  # header first
    keys: KeyringLogKeys

    def with_body(self, plaintext: bytes, work: Path, *, sealed: bool = True) -> Path:
        """A copy of the log in ``work`` whose entry VICTIM carries ``plaintext``, sealed (or, with
        ``sealed=False``, as the raw body) and MACed properly."""
        header = parse_header(self.lines[0])
        previous = parse_entry(self.lines[VICTIM])  # the entry before VICTIM (lines[0] is the header)
        original = parse_entry(self.lines[VICTIM + 1])
        assert header is not None and previous is not None and original is not None
        key = self.keys.mac_key()
        body = SealedCodec(self.keys).encode(plaintext, header.log_id, original.seq) if sealed else plaintext
        line = EntryLine(original.seq, key.key_id, previous.mac, body,
                         entry_mac(key, header.log_id, original.seq, previous.mac, body)).encode()
        work.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.directory / CHECKPOINT_NAME, work / CHECKPOINT_NAME)
        lines = list(self.lines)
        lines[VICTIM + 1] = line
        (work / LOG_NAME).write_bytes(b"".join(lines))
        return work


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, log_keys: KeyringLogKeys) -> Base:
    directory = tmp_path_factory.mktemp("hostile") / "audit"
    log = AuditLog.open(directory, log_keys, durable=False)
    for i in range(N):
        log.append(AuditEvent(category="data_access", action="read", actor="user-1", details={"i": i}))
    log.close()
    return Base(directory, tuple((directory / LOG_NAME).read_bytes().splitlines(keepends=True)), log_keys)


def check(base: Base, plaintext: bytes, *, sealed: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        found = verify_log(base.with_body(plaintext, Path(tmp), sealed=sealed), base.keys, SealedCodec(base.keys))
    assert not found.ok
    # A body that does not open as an event is the modified entry; one that does (a key holder's forgery) still
    # breaks the chain, which is reported at the entry after it.
    assert [(p.kind, p.position) for p in found.problems] in ([("modified", VICTIM)], [("modified", VICTIM + 1)]), \
        found.describe()


@pytest.mark.parametrize("plaintext", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_bodies_are_located_not_raised(base: Base, plaintext: bytes) -> None:
    check(base, plaintext)


@given(plaintext=st.one_of(st.binary(max_size=2048), st.sampled_from(HOSTILE),
                           st.recursive(st.sampled_from([b"1", b'"x"', b"null", b"1e999", b"-0"]),
                                        lambda inner: st.lists(inner, max_size=3).map(
                                            lambda xs: b"[" + b",".join(xs) + b"]"))))
def test_any_sealed_body_that_is_not_an_event_is_located(base: Base, plaintext: bytes) -> None:
    check(base, plaintext)


@given(body=st.binary(max_size=4096))
def test_any_mac_valid_body_that_is_not_an_envelope_is_located(base: Base, body: bytes) -> None:
    check(base, body, sealed=False)


def test_the_cli_reports_a_hostile_entry_with_exit_1(base: Base, keyring: UnlockedKeyring, tmp_path: Path) -> None:
    work = base.with_body(b"[" * 100_000, tmp_path / "audit")
    keys_dir = keyring.path.parent
    env = {**os.environ, "AICO_SECURE_PASSWORD": PASSWORD}
    done = subprocess.run([sys.executable, "-c", "import sys; from aico_secure.cli.main import main; "
                           "sys.exit(main())", "audit", "verify", str(work), "--keyring", str(keys_dir)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert f"entry {VICTIM}" in done.stdout and "Traceback" not in done.stderr
    assert Keyring.path_in(keys_dir).exists()
