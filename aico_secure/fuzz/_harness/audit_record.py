"""Stored audit records: ``audit.log`` as the verifier reads it, one entry's sealed body, and the event JSON
inside.

The first byte picks what the rest is, because the three parsers sit behind one another: a fuzzer that could
only write whole log files would never get a body past the entry MAC, nor a plaintext past AES-GCM, so the
codec and the event decoder would go unfuzzed. Keys are fixed (``_fixed_keys``) so stored seeds keep
authenticating, which is what lets mode 0 reach the backbone and gap classification of ``verify``.

- mode 0: ``audit.log`` bytes, through ``verify_log`` (documented never to raise: every finding is in its
  result) with the sealed codec the reference build uses;
- mode 1: a 16-byte log id then one entry line: ``parse_entry`` and the sealed codec's ``decode`` of its body
  (the entry MAC is skipped, as a holder of the MAC key could pass it), then ``record.from_bytes``;
- mode 2: an entry's plaintext (what ``PlainCodec.decode`` hands on) through ``record.from_bytes``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aico_secure.audit import record
from aico_secure.audit.chain import LOG_ID_BYTES, parse_entry, parse_header
from aico_secure.audit.codec import BodyUnreadable, PlainCodec, SealedCodec
from aico_secure.audit.errors import InvalidAuditEvent
from aico_secure.audit.events import AuditEvent
from aico_secure.audit.layout import log_path
from aico_secure.audit.logkeys import KeyringLogKeys
from aico_secure.audit.verify import verify_log
from aico_secure.fuzz._harness._fixed_keys import fixed_keyring
from aico_secure.fuzz.interface import Harness

MODES = 3
LOG, ENTRY, PLAINTEXT = 0, 1, 2

EVENTS = (
    AuditEvent(category="key", action="unlock", actor="cli", details={"purpose": "audit"}),
    AuditEvent(category="data_access", action="read", actor="app", subject="notes", details={"records": 3}),
    AuditEvent(category="auth", action="login", actor="127.0.0.1", result="failure", subject="alice",
               details={"reason": "bad_proof", "attempt": 2, "locked": False, "ratio": 0.5}),
    AuditEvent(category="consent", action="grant", actor="alice", result="denied", subject="health"),
    AuditEvent(category="system", action="checkpoint_repaired", actor="audit-log", details={"entries": 4}),
)


def _clock() -> float:
    return 1_767_225_600.25  # fixed, so seeds are reproducible but for the AES-GCM nonces


class AuditRecordHarness(Harness):
    name = "audit_record"
    surface = "audit.log as found on disk: verify_log, the sealed body codec and the event JSON in an entry"
    refusals = (BodyUnreadable, InvalidAuditEvent)
    max_len = 16 * 1024  # a few entries; each line is bounded by MAX_LINE_BYTES anyway
    timeout_s = 10
    rss_limit_mb = 2048
    dictionary = (b"AICO-AUDIT/1 ", b"AICO-AUDIT/", b"\n", b" ", b"==", b'{"action":', b'"actor":', b'"category":',
                  b'"details":', b'"result":', b'"subject":', b'"ts":', b'"v":1', b'"key"', b'"data_access"',
                  b'"auth"', b'"consent"', b'"alert"', b'"system"', b'"crypto"', b'"success"', b'"failure"',
                  b'"denied"', b"NaN", b"Infinity", b"-Infinity", b"1e999", b"\\ud800", b"null", b"true",
                  b"9223372036854775807", b"9223372036854775808", b"0000000000000000")

    def setup(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="aico-fuzz-audit-record-"))
        self._keys = KeyringLogKeys(fixed_keyring())
        self._sealed = SealedCodec(self._keys)
        self._plain = PlainCodec()

    def teardown(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def run(self, data: bytes) -> None:
        mode, payload = (data[0] % MODES, data[1:]) if data else (LOG, b"")
        if mode == LOG:
            log_path(self._dir).write_bytes(payload)
            found = verify_log(self._dir, self._keys, self._sealed, keep_events=True)
            if found.ok:
                found.events()
        elif mode == ENTRY:
            log_id, line = payload[:LOG_ID_BYTES], payload[LOG_ID_BYTES:]
            parsed = parse_entry(line)
            if len(log_id) == LOG_ID_BYTES and parsed is not None:
                record.from_bytes(self._sealed.decode(parsed.body, log_id, parsed.seq))
        else:
            record.from_bytes(self._plain.decode(payload, b"\x00" * LOG_ID_BYTES, 1))

    def seeds(self) -> Iterator[tuple[str, bytes]]:
        from aico_secure.audit.log import AuditLog

        with tempfile.TemporaryDirectory() as scratch:
            keys = KeyringLogKeys(fixed_keyring())
            log = AuditLog.open(Path(scratch), keys, durable=False, clock=_clock)
            try:
                yield "log-empty", bytes([LOG]) + log_path(Path(scratch)).read_bytes()
                for event in EVENTS:
                    log.append(event)
            finally:
                log.close()
            text = log_path(Path(scratch)).read_bytes()
        yield "log-5", bytes([LOG]) + text
        header, *lines = text.splitlines(keepends=True)
        parsed_header = parse_header(header)
        assert parsed_header is not None, "the reference writer wrote a header its parser refuses"
        for i, line in enumerate(lines, start=1):
            yield f"entry-{i}", bytes([ENTRY]) + parsed_header.log_id + line
        for i, event in enumerate(EVENTS, start=1):
            yield f"plaintext-{i}", bytes([PLAINTEXT]) + record.to_bytes(event)


HARNESS = AuditRecordHarness()
