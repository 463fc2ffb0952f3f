"""Zero-knowledge password login (AICO-GW-001): SRP-6a with a >= 3072-bit group, mutual proof, no bypass, and
no password or password-equivalent held by the server.

The suite is the client: its SRP comes from the independent ``srp`` package, so a server that needs the
password itself (or a hash of it) cannot log the suite in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from aico_secure.conform.checks import find_leaks
from aico_secure.conform.fakes import CollectingSink as EventSink
from aico_secure.inspector.encodings import byte_forms, text_forms
from aico_secure.target.gateway import RunningGateway

from .gwclient import MIN_GROUP_BITS, SuiteClient, group_named, srp_x


@pytest.mark.requirement("AICO-GW-001")
def test_srp_login_proves_both_sides(gateway: RunningGateway, client: SuiteClient, password: str,
                                     new_user: Callable[[], str], evidence: Callable[[str, object], None]) -> None:
    user = new_user()
    gateway.register(user, password)
    outcome = client.srp_login(user, password)
    assert outcome.status == 200, f"login with the right password failed: {outcome.status} {outcome.body}"
    group = group_named(str(outcome.challenge["group"]))
    assert group.N.bit_length() >= MIN_GROUP_BITS, f"SRP group of {group.N.bit_length()} bits is too small"
    assert outcome.server_proof_ok, "the server's proof (HAMK) does not verify: it does not hold the verifier"
    assert outcome.access_token and outcome.refresh_token, "a successful login returned no tokens"
    me = client.request("GET", "/v1/me", token=outcome.access_token)
    assert me.status_code == 200 and me.json().get("username") == user
    evidence("srp group",
             f"{outcome.challenge['group']} ({group.N.bit_length()} bits), hash {outcome.challenge['hash']}")


@pytest.mark.requirement("AICO-GW-001")
def test_wrong_password_gets_no_token(gateway: RunningGateway, client: SuiteClient, password: str,
                                      new_user: Callable[[], str]) -> None:
    user = new_user()
    gateway.register(user, password)
    before = gateway.verification_count()
    for wrong in (password + "x", password.upper(), "-"):
        outcome = client.srp_login(user, wrong)
        assert outcome.status == 401, f"a wrong password was answered {outcome.status}, expected 401"
        assert "access_token" not in outcome.body and "refresh_token" not in outcome.body
    assert gateway.verification_count() - before == 3, "verification_count must count each checked proof"
    assert client.request("GET", "/v1/me").status_code == 401, "a protected route answered without a token"
    assert client.srp_login(user, password).status == 200, "the right password stopped working after wrong ones"


@pytest.mark.requirement("AICO-GW-001")
@pytest.mark.parametrize("zero_key", [b"", b"\0"], ids=["S-empty", "S-zero-byte"])
def test_client_value_zero_mod_n_is_refused(gateway: RunningGateway, client: SuiteClient, password: str,
                                            new_user: Callable[[], str], zero_key: bytes) -> None:
    """A = 0 or A = N makes the server's shared secret 0 whatever the password (RFC 5054 2.5.4): a server that
    does not check A logs the attacker in with a proof computed from S = 0."""
    probe_user = new_user()
    gateway.register(probe_user, password)
    response, challenge = client.challenge(probe_user)
    assert response.status_code == 200 and "group" in challenge, (
        f"no SRP-6a challenge for an enrolled user ({response.status_code}): the gateway does not offer the "
        "documented zero-knowledge login")
    n = group_named(str(challenge["group"])).N
    for forged_a in (0, n):
        user = new_user()
        gateway.register(user, password)
        outcome = client.srp_login(user, "not-the-password", client_public=forged_a, zero_key=zero_key)
        assert outcome.stage == "verify", f"attack not exercised: challenge refused with {outcome.status}"
        assert 400 <= outcome.status < 500 and outcome.status != 429, \
            f"A = {'N' if forged_a else '0'} was answered {outcome.status}"
        assert outcome.access_token is None, "a client without the password logged in with A = 0 (mod N)"


def _equivalents(hash_name: str, salt: bytes, user: str, password: str) -> dict[str, bytes]:
    """Values from which a login can be made without the password, or that are the password in thin disguise."""
    x = srp_x(hash_name, salt, user, password)
    x_bytes = x.to_bytes((x.bit_length() + 7) // 8, "big")
    found = {
        "srp-x": x_bytes,
        "srp-inner-hash": hashlib.new(hash_name, f"{user}:{password}".encode()).digest(),
        "srp-x-decimal": str(x).encode(),
        "srp-x-hex-digits": format(x, "x").encode(),  # minimal hex text: odd length when the top nibble is 0
        "srp-x-HEX-digits": format(x, "X").encode(),
    }
    for algorithm in ("md5", "sha1", "sha256", "sha512", "sha3_256", "blake2b"):
        found[f"{algorithm}(password)"] = hashlib.new(algorithm, password.encode()).digest()
        found[f"{algorithm}(salt+password)"] = hashlib.new(algorithm, salt + password.encode()).digest()
    return found


def _verifier_forms(verifier: int, width: int) -> list[bytes]:
    minimal = verifier.to_bytes((verifier.bit_length() + 7) // 8, "big")
    forms = [str(verifier).encode(), format(verifier, "x").encode(), format(verifier, "X").encode()]
    for data in (minimal, verifier.to_bytes(width, "big")):
        forms += [f for _name, f in byte_forms(data)]
    return forms


@pytest.mark.requirement("AICO-GW-001")
def test_server_keeps_a_verifier_and_no_password_equivalent(gateway: RunningGateway, client: SuiteClient,
                                                            password: str, new_user: Callable[[], str],
                                                            audit_events: EventSink,
                                                            evidence: Callable[[str, object], None]) -> None:
    user = new_user()
    gateway.register(user, password)
    outcome = client.srp_login(user, password)
    assert outcome.status == 200, f"login failed: {outcome.status} {outcome.body}"
    hash_name, salt = str(outcome.challenge["hash"]), bytes.fromhex(outcome.challenge["salt"])
    group = group_named(str(outcome.challenge["group"]))
    secrets = _equivalents(hash_name, salt, user, password)

    records = gateway.credential_records()
    assert user in records, "credential_records() has no record for the enrolled user"
    record = bytes(records[user])
    verifier = pow(group.g, srp_x(hash_name, salt, user, password), group.N)
    assert any(f in record for f in _verifier_forms(verifier, (group.N.bit_length() + 7) // 8)), \
        "the stored credential does not contain the SRP verifier for this salt and password"
    in_record = [name for name, value in secrets.items() if any(f in record for _n, f in byte_forms(value))]
    in_record += ["password"] if any(f in record for _n, f in text_forms(password)) else []
    assert not in_record, f"the stored credential holds password-equivalents: {in_record}"

    in_traffic = [name for name, value in {**secrets, "password": password.encode()}.items()
                  for body in outcome.responses if any(f in body for _n, f in byte_forms(value))]
    assert not in_traffic, f"gateway responses carry password-equivalents: {sorted(set(in_traffic))}"
    audit_text = audit_events.text().encode()
    in_audit = [name for name, value in {**secrets, "password": password.encode()}.items()
                if any(f in audit_text for _n, f in byte_forms(value))]
    assert not in_audit, f"audit events carry password-equivalents: {in_audit}"

    scan = find_leaks(Path(gateway.data_dir), canaries=[password], secrets=secrets)
    leaks = sorted({"password" if f.label.startswith("canary:") else f.label  # a canary label holds the text
                    for f in scan.findings if f.label.startswith(("canary:", "key:"))})
    assert scan.files_read > 0, "nothing was read under the gateway's data_dir: the scan checked nothing"
    assert not leaks, f"password or password-equivalents on disk under data_dir: {leaks}"
    evidence("credential record bytes", len(record))
    evidence("files scanned", scan.files_read)
