"""Tokens, the revocation list and the gateway's sealed state: type and audience binding, expiry, tampering,
refresh rotation and reuse detection, persistence across reopen, and refusal of damaged or incomplete state."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aico_secure.conform.hypothesis_profiles import DISK, budget
from aico_secure.gateway.errors import GatewayStateError, TokenRejected
from aico_secure.gateway.revocation import REVOKED_FILE
from aico_secure.gateway.state import INSTANCE_FILE, open_state
from aico_secure.gateway.tokens import TokenService
from aico_secure.gateway.users import USERS_FILE
from aico_secure.keys import UnlockedKeyring

from .conftest import Clock


def _service(keyring: UnlockedKeyring, directory: Path, clock: Clock) -> TokenService:
    state = open_state(keyring, directory, clock)
    return TokenService(keyring, audience=state.audience, clock=clock, access_ttl=300, refresh_ttl=3600,
                        revocations=state.revocations)


def test_types_audience_and_expiry(keyring: UnlockedKeyring, tmp_path: Path, clock: Clock) -> None:
    tokens = _service(keyring, tmp_path / "a", clock)
    other = _service(keyring, tmp_path / "b", clock)
    pair = tokens.issue("alice")
    assert tokens.verify(pair.access, "access").sub == "alice"
    assert tokens.verify(pair.refresh, "refresh").typ == "refresh"
    for token, kind in ((pair.refresh, "access"), (pair.access, "refresh")):
        with pytest.raises(TokenRejected):
            tokens.verify(token, kind)  # type: ignore[arg-type]
    with pytest.raises(TokenRejected):
        other.verify(pair.access, "access")
    clock.advance(301)
    with pytest.raises(TokenRejected, match="expired"):
        tokens.verify(pair.access, "access")
    assert tokens.verify(pair.refresh, "refresh")
    assert "alice" not in repr(pair) and pair.access not in repr(pair)


@settings(max_examples=budget(DISK), deadline=None)
@given(data=st.data())
def test_any_change_to_a_token_is_refused(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    from aico_secure.keys import Keyring

    root = tmp_path_factory.mktemp("tok")
    keyring = Keyring.create(Keyring.path_in(root / "keys"), "pw-for-gateway-unit-tests", profile="test")
    clock = Clock()
    tokens = _service(keyring, root / "gw", clock)
    token = tokens.issue("alice").access
    raw = bytearray(base64.urlsafe_b64decode(token[6:] + "=" * (-len(token[6:]) % 4)))
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] ^= data.draw(st.integers(1, 255))
    forged = "aico1." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(TokenRejected):
        tokens.verify(forged, "access")


def test_refresh_rotates_and_reuse_revokes_the_session(keyring: UnlockedKeyring, tmp_path: Path,
                                                       clock: Clock) -> None:
    tokens = _service(keyring, tmp_path, clock)
    first = tokens.issue("alice")
    _, second = tokens.refresh(first.refresh)
    assert second.session_id == first.session_id
    with pytest.raises(TokenRejected):
        tokens.refresh(first.refresh)  # replay of a spent refresh token ...
    with pytest.raises(TokenRejected, match="revoked"):
        tokens.verify(second.access, "access")  # ... revokes the whole session


def test_revocations_survive_reopen_and_damage_is_refused(keyring: UnlockedKeyring, tmp_path: Path,
                                                          clock: Clock) -> None:
    tokens = _service(keyring, tmp_path, clock)
    pair = tokens.issue("alice")
    tokens.revoke_session(pair.session_id)
    reopened = _service(keyring, tmp_path, clock)
    with pytest.raises(TokenRejected, match="revoked"):
        reopened.verify(pair.access, "access")

    revoked = tmp_path / REVOKED_FILE
    data = bytearray(revoked.read_bytes())
    data[-1] ^= 1
    revoked.write_bytes(bytes(data))
    with pytest.raises(GatewayStateError):
        open_state(keyring, tmp_path, clock)
    revoked.unlink()
    with pytest.raises(GatewayStateError, match="incomplete"):
        open_state(keyring, tmp_path, clock)


def test_state_files_cannot_be_swapped(keyring: UnlockedKeyring, tmp_path: Path, clock: Clock) -> None:
    open_state(keyring, tmp_path, clock)
    (tmp_path / USERS_FILE).write_bytes((tmp_path / REVOKED_FILE).read_bytes())
    with pytest.raises(GatewayStateError):
        open_state(keyring, tmp_path, clock)


def test_instance_file_missing_is_refused(keyring: UnlockedKeyring, tmp_path: Path, clock: Clock) -> None:
    open_state(keyring, tmp_path, clock)
    (tmp_path / INSTANCE_FILE).unlink()
    with pytest.raises(GatewayStateError, match="incomplete"):
        open_state(keyring, tmp_path, clock)


def test_revocation_list_stays_small(keyring: UnlockedKeyring, tmp_path: Path, clock: Clock) -> None:
    tokens = _service(keyring, tmp_path, clock)
    for _ in range(20):
        tokens.revoke_session(tokens.issue("alice").session_id)
    clock.advance(3600 + 60)
    tokens.revoke_session(tokens.issue("alice").session_id)
    assert len(open_state(keyring, tmp_path, clock).revocations) == 1, "expired revocations must be dropped"
