"""The bugs the data-surface harnesses found, pinned at the surface itself (not only through a harness), so a
refactor of a harness cannot hide their return: each input used to escape as an untyped exception (or, for the
schemas, to be accepted), and must now be the surface's documented refusal."""

from __future__ import annotations

import base64
import socket
import struct
import tempfile
from pathlib import Path

import pytest

from aico_secure.consent import records
from aico_secure.consent.errors import ConsentStateCorrupt
from aico_secure.consent.records import SealedRecordFile
from aico_secure.consent.state import ConsentState
from aico_secure.fuzz import registry, replay
from aico_secure.fuzz._harness import gateway_body, token
from aico_secure.fuzz._harness._fixed_keys import fixed_keyring
from aico_secure.gateway import schemas
from aico_secure.gateway.errors import TokenRejected
from aico_secure.gateway.tokens import TokenType
from aico_secure.gateway.validation import RequestRejected, validate
from aico_secure.reference.keys import ReferenceKeySession
from aico_secure.transport.errors import SyncError
from aico_secure.transport.sync.protocol import read_frame
from aico_secure.transport.sync.records import FILE_NAME, RecordFile

DEEP = b"[" * 50_000  # deeper than any recursion limit: json raises RecursionError, not ValueError
FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
FIXED = ("sync_frame", "sync_records", "consent_record", "token", "gateway_body", "srp_message")


def test_a_sync_frame_nested_too_deep_is_a_sync_error() -> None:
    sender, receiver = socket.socketpair()
    try:
        sender.sendall(struct.pack(">I", len(DEEP)) + DEEP)
        with pytest.raises(SyncError):
            read_frame(receiver)
    finally:
        sender.close()
        receiver.close()


@pytest.mark.parametrize("document", [b'{"notes/1": 5}', DEEP], ids=["value-not-text", "nested"])
def test_a_damaged_sync_record_file_is_a_sync_error(document: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / FILE_NAME).write_bytes(document)
        with pytest.raises(SyncError):
            RecordFile(Path(scratch))


@pytest.mark.parametrize("document", [
    b'{"v":1,"revision":1e999,"levels":{},"grants":[]}',  # int(inf)
    b'{"v":1,"revision":1,"levels":{},"grants":[{"subject":"a","category":"c","operation":"read","granted_by":"o",'
    b'"granted_at":1' + b"0" * 400 + b',"expires_at":1}]}',  # float(10**400)
    DEEP,
], ids=["revision-infinite", "time-too-large", "nested"])
def test_a_consent_state_out_of_range_is_corrupt(document: bytes) -> None:
    with pytest.raises(ConsentStateCorrupt):
        ConsentState.decode(document)


def test_a_consent_record_file_nested_too_deep_is_corrupt() -> None:
    session = ReferenceKeySession(fixed_keyring())
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "records.sealed"
        path.write_bytes(base64.b64encode(session.seal(records.PURPOSE, records.RECORD, DEEP)))
        with pytest.raises(ConsentStateCorrupt):
            SealedRecordFile(session, path)


@pytest.mark.parametrize("typ", ["access", "refresh"])
def test_token_claims_nested_too_deep_are_rejected(typ: TokenType) -> None:
    harness = token.TokenHarness()
    harness.setup()
    try:
        sealed = harness._seal(typ, b"[" * 1400)  # as deep as a token's size allows
        with pytest.raises(TokenRejected):
            if typ == "access":
                harness._service.verify(sealed, "access")
            else:
                harness._service.refresh(sealed)
    finally:
        harness.teardown()


@pytest.mark.parametrize(("validator", "document"), [
    (schemas.CHALLENGE, {"username": "alice\n"}),
    (schemas.VERIFY, {"challenge_id": "a" * 20 + "\n", "A": "ab", "M": "00" * 16}),
    (schemas.VERIFY, {"challenge_id": "a" * 20, "A": "ab\n", "M": "00" * 16}),
    (schemas.REGISTER, {"username": "alice", "salt": "00" * 16 + "\n", "verifier": "ab"}),
    (schemas.DATA_PATH, {"category": "health\n", "key": "k"}),
    (schemas.GRANT_PATH, {"category": "health", "operation": "read\n"}),
])
def test_a_pattern_does_not_accept_a_trailing_newline(validator: object, document: dict[str, str]) -> None:
    with pytest.raises(RequestRejected) as refused:
        validate(validator, document)  # type: ignore[arg-type]
    assert "\n" not in refused.value.detail


def test_a_pattern_still_accepts_what_it_should() -> None:
    validate(schemas.CHALLENGE, {"username": "alice.b-2_c"})
    validate(schemas.DATA_PATH, {"category": "health", "key": "weight.2026-01"})


@pytest.mark.parametrize("name", FIXED)
def test_the_regression_inputs_replay_clean(name: str) -> None:
    stored = list(replay.inputs([FUZZ / "regressions" / name]))
    assert stored, f"fuzz/regressions/{name}/ holds no input"
    assert not replay.replay(registry.load(name), stored)


def test_gateway_body_inputs_decode_as_built() -> None:
    """``encode`` is the inverse of the harness's ``FuzzedDataProvider`` calls, or every seed is noise."""
    harness = gateway_body.HARNESS
    harness.run(gateway_body.encode(1, 0, (), b'{"username":"alice"}'))
    with pytest.raises(RequestRejected):
        harness.run(gateway_body.encode(1, 4, (), b'{"username":"alice"}'))  # text/plain
